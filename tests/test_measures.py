"""The shared measurements: R² of several outputs, cross-entropy skill."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import r2_score

from deadpan.measures import cross_entropy_skill, r2


def test_r2_of_several_outputs_is_weighted_by_their_variance_as_scikit_learn_does() -> None:
    rng = np.random.default_rng(0)
    true = np.stack([rng.normal(0, 1, 200), rng.normal(0, 1e-3, 200)], axis=1)  # a nearly constant column
    pred = true + np.stack([rng.normal(0, 0.3, 200), rng.normal(0, 0.01, 200)], axis=1)
    expected = r2_score(true, pred, multioutput="variance_weighted")
    assert abs(r2(true, pred) - expected) < 1e-9
    assert r2(true, pred) > 0.8  # the plain mean over columns would be far below zero


def test_cross_entropy_skill_is_zero_for_the_prior_and_one_for_certainty() -> None:
    true = np.array([0, 0, 1, 2, 2, 2])
    prior = np.bincount(true, minlength=3) / len(true)
    assert abs(cross_entropy_skill(true, np.tile(prior, (6, 1)))) < 1e-9
    certain = np.eye(3)[true]
    assert cross_entropy_skill(true, certain) > 0.999
    assert cross_entropy_skill(true, np.tile([0.0, 1.0, 0.0], (6, 1))) < 0  # confidently wrong
