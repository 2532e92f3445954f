"""The recipes of the probes that train a copy, for either framework: overfit one batch's size, steps and
learning rate, and the LR range test's schedule and stopping rule (:func:`lr_sweep`). The PyTorch probes are
:mod:`deadpan.probes.training`, the Keras ones :mod:`deadpan.keras.probes`."""

from __future__ import annotations

import math
from collections.abc import Callable

from deadpan.evidence import LRRangeProbe

#: Overfit-one-batch (Karpathy 2019, "A recipe for training neural networks"): 16 samples, Adam, 30 steps.
#: 3e-3 rather than the usual 3e-4 so that 30 steps suffice on a batch this small.
OVERFIT_ROWS = 16
OVERFIT_STEPS = 30
OVERFIT_LR = 3e-3
#: LR range test: geometric sweep over this range in this many steps; "diverged" once the smoothed loss
#: exceeds this multiple of its start (fast.ai's lr_find stops at 4x).
LR_START, LR_END, LR_STEPS = 1e-6, 10.0, 40
#: Rows of each captured batch used per LR range step: the sweep needs the loss trend, not full batches.
LR_ROWS = 32
DIVERGE_FACTOR = 4.0


def lr_sweep(step: Callable[[int, float], float], user_lr: float | None) -> LRRangeProbe:
    """The range test's schedule and stopping rule, framework-free: ``step(i, lr)`` sets the learning rate,
    computes the loss on batch ``i``, takes one optimizer step and returns the loss before the update (it
    may skip the update once the loss is not finite)."""
    factor = (LR_END / LR_START) ** (1 / (LR_STEPS - 1))
    lrs: list[float] = []
    losses: list[float] = []
    smooth = 0.0
    start: float | None = None
    diverge: float | None = None
    best_lr, best = None, math.inf
    for i in range(LR_STEPS):
        lr = LR_START * factor**i
        value = step(i, lr)
        lrs.append(lr)
        losses.append(value)
        if not math.isfinite(value):
            diverge = lr
            break
        smooth = 0.8 * smooth + 0.2 * value
        corrected = smooth / (1 - 0.8 ** (i + 1))
        if start is None:
            start = corrected
        # The smoothed loss lags: a loss that explodes in the sweep's last steps (or jumps to a plateau,
        # as a clipped Keras loss does) is caught by two raw losses in a row above the same bound.
        raw_up = len(losses) >= 2 and min(losses[-2:]) > DIVERGE_FACTOR * max(start, 1e-8)
        if corrected > DIVERGE_FACTOR * max(start, 1e-8) or raw_up:
            diverge = lr
            break
        if corrected < best:
            best, best_lr = corrected, lr
    # fast.ai's rule: a tenth of the LR at the loss minimum (the minimum itself is already too high).
    suggested = best_lr / 10 if best_lr is not None and best_lr > LR_START * factor * 2 else None
    return LRRangeProbe(tuple(lrs), tuple(losses), suggested, diverge, user_lr)
