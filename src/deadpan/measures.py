"""Plain NumPy measurements shared by the probes and the checks: class ids, balanced accuracy, R^2,
cross-entropy skill.

Framework-free (no torch, no Keras), so the checks can use them. Written by hand rather than taken from
``sklearn.metrics``: the live collapse checks call them on the training's hot path, where scikit-learn's input
validation costs about a millisecond a call, and :func:`r2` clamps a non-finite or hugely negative score
instead of raising, which scikit-learn's ``r2_score`` does not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: Distinct integer target values that look like class ids: two values are a binary problem that a
#: regression loss fits tolerably; more than ~50 integer values is more likely a count than a class.
MIN_CLASS_IDS = 3
MAX_CLASS_IDS = 50
#: Class ids are (nearly) contiguous: the id range is at most this many times the number of distinct ids.
MAX_ID_SPAN_RATIO = 2.0


def class_ids(values: np.ndarray) -> np.ndarray | None:
    """The distinct values of a regression target when they look like class ids 0..C-1, else None.

    Integers, non-negative, 3 to 50 distinct values, nearly contiguous. Ordinal targets (ratings 1..5) match
    too: the rule says only that the targets *could* be classes; the checks ask for evidence before saying
    that they are."""
    y = np.asarray(values, dtype=np.float64).ravel()
    y = y[np.isfinite(y)]
    if y.size == 0 or not np.array_equal(y, np.round(y)):
        return None
    ids = np.unique(y)
    if not MIN_CLASS_IDS <= len(ids) <= MAX_CLASS_IDS or ids[0] < 0:
        return None
    if ids[-1] - ids[0] + 1 > MAX_ID_SPAN_RATIO * len(ids):
        return None
    return ids


def rounded_score(out: np.ndarray, target: np.ndarray) -> float | None:
    """Balanced accuracy of one regression output rounded to the nearest class id (clipped to the ids'
    range), when the targets look like class ids (:func:`class_ids`); None otherwise. The score a user who
    regresses class ids gets once the outputs are read as classes."""
    if out.ndim != 2 or out.shape[1] != 1 or target.reshape(len(target), -1).shape[1] != 1:
        return None
    true = target.reshape(-1)
    ids = class_ids(true)
    if ids is None or not np.isfinite(out).all():
        return None
    pred = np.clip(np.round(out[:, 0]), ids[0], ids[-1])
    return balanced_accuracy(true, pred)


def balanced_accuracy(true: np.ndarray, pred: np.ndarray) -> float:
    classes = np.unique(true)
    if len(classes) == 0:
        return 0.0
    return float(np.mean([np.mean(pred[true == c] == c) for c in classes]))


def cross_entropy_skill(true: np.ndarray, probs: np.ndarray) -> float:
    """The share of the input-independent answer's cross-entropy that the predicted class probabilities
    remove: ``1 - CE(probs) / CE(prior)``, the prior being the targets' own class frequencies (for a language
    model, the unigram distribution). 0: no better than ignoring the input; 1: certain and right; negative:
    worse than the prior. Probabilities are clipped at 1e-15 as scikit-learn's ``log_loss`` does."""
    if len(true) == 0:
        return 0.0
    counts = np.bincount(true, minlength=probs.shape[1])[: probs.shape[1]].astype(np.float64)
    prior = counts / max(counts.sum(), 1.0)
    nonzero = prior > 0
    baseline = float(-(prior[nonzero] * np.log(prior[nonzero])).sum())
    if baseline <= 1e-12:  # one class in the targets: no uncertainty to remove
        return 0.0
    rows = probs / np.clip(probs.sum(1, keepdims=True), 1e-12, None)
    picked = rows[np.arange(len(true)), np.clip(true, 0, probs.shape[1] - 1)]
    return 1.0 - float(-np.log(np.clip(picked, 1e-15, 1.0)).mean()) / baseline


def r2(true: np.ndarray, pred: np.ndarray) -> float:
    """R^2 of several output columns weighted by their variance (scikit-learn's
    ``multioutput="variance_weighted"``): one minus the summed squared error over the summed variance. An
    autoencoder's nearly constant border pixels would otherwise each count as much as the image's content,
    and one of them predicted a little off drives a plain mean of per-column R^2 far below zero."""
    true = true.reshape(len(true), -1)
    pred = np.broadcast_to(pred.reshape(len(pred), -1), true.shape)
    ss_tot = ((true - true.mean(0)) ** 2).sum(0)
    ok = ss_tot > 0
    if not ok.any():
        return 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        ss_res = float(((true[:, ok] - pred[:, ok]) ** 2).sum())
        value = 1 - ss_res / float(ss_tot[ok].sum())
    return float(max(value, -1e6)) if math.isfinite(value) else -1e6


def signal_dies_at(spreads: Sequence[float], threshold: float) -> int | None:
    """Index of the layer after which the input's information is gone: the first layer whose across-sample
    spread is below ``threshold`` with every later layer's too. A flat layer the signal goes around (a
    token-type embedding of all-zero ids, a constant positional table) does not count."""
    dies: int | None = None
    for i, s in enumerate(spreads):
        if not math.isfinite(s):
            continue
        dies = (i if dies is None else dies) if s < threshold else None
    return dies
