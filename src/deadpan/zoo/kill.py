"""Does a mutant really harm its task? Only mutants that do are scored as faults.

A mutant is *killed* when both hold, over independent training seeds:

1. **Significance**: a one-sided Welch t-test says its held-out score is lower than the healthy task's,
   p < :data:`ALPHA` (as DeepCrime's killing test, which uses the same idea with more runs).
2. **Size**: its mean score lost at least :data:`MIN_LOSS` of what the healthy model learned beyond the
   input-independent baseline (``healthy_mean - chance``). A fault in deadpan's sense takes away a large part
   of what the model learns; a statistically significant loss of a hair is not one.

Both thresholds were fixed before the zoo was first run and are the same for every task and operator.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05
MIN_LOSS = 0.25


@dataclass(frozen=True)
class KillTest:
    killed: bool
    p_value: float
    #: healthy mean - mutant mean, in score units.
    drop: float
    #: drop / (healthy mean - chance): the share of what the healthy model learned that the mutant lost.
    loss_share: float


def welch_less(a: np.ndarray, b: np.ndarray) -> float:
    """One-sided p-value for mean(a) < mean(b) (Welch's unequal-variance t-test)."""
    from scipy import stats

    if np.var(a) == 0 and np.var(b) == 0:
        return 0.0 if a.mean() < b.mean() else 1.0
    with warnings.catch_warnings():  # near-identical scores: scipy warns about precision, the p is fine
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(stats.ttest_ind(a, b, equal_var=False, alternative="less").pvalue)
    return 1.0 if math.isnan(p) else p


def kill_test(mutant: list[float], healthy: list[float], chance: float) -> KillTest:
    m, h = np.asarray(mutant, dtype=float), np.asarray(healthy, dtype=float)
    p = welch_less(m, h)
    drop = float(h.mean() - m.mean())
    margin = max(float(h.mean()) - chance, 1e-9)
    share = drop / margin
    return KillTest(p < ALPHA and share >= MIN_LOSS, p, drop, share)
