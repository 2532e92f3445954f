"""Shared measurements for the checks. Not a check.

A concern that only harms a model that misbehaves (imbalance, capacity, dead units, a learning rate, a short
run ...) is worth a finding only when the probed output is collapsed or scores poorly, so every such check
gates on :func:`misbehaving` and healthy runs stay silent. Checks that read the loss curve use
:func:`loss_curve`, so they all treat non-finite values and short curves alike.

A rule one check states and another check relies on lives here too, so that no check imports another: the
learnability probe's no-signal bar (DP102, :func:`finds_no_signal`), an extreme class imbalance (DP101,
:func:`extreme_imbalance`), all-equal weight rows (DP601, :func:`symmetric`) and the saturating activations
(DP221, :data:`SATURATING_FAMILIES`). Loss-curve trends (DP510's "still falling") live in
:mod:`deadpan.checks.curves`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deadpan.diagnosis import DEGRADED_BEHIND_BASELINE_WITH_CAUSE, DEGRADED_SCORE, is_collapsed
from deadpan.evidence import Evidence, LearnabilityProbe, OutputProbe, TrainingStats, WeightStats

#: Normalized score (0 = the input-independent baseline, 1 = perfect) below which the model is "degraded":
#: it recovers less than half of what separates chance from perfect (docs/design.md section 5, verdict
#: degraded).
POOR_SCORE = 0.5
#: The same bar for cross-entropy skill (classes per position, a language model's next tokens), whose
#: perfect 1 is out of reach where the next token is noisy: a model removing less than a fifth of the
#: input-independent answer's cross-entropy (the verdict's "no better than input-independent",
#: :data:`deadpan.diagnosis.DEGRADED_SCORE`).
POOR_SKILL = DEGRADED_SCORE
#: The network also misbehaves when it trails the learnability probe's best simple model (on the same
#: inputs) by this much of the chance-to-perfect range: it failed to learn what is plainly learnable. The
#: same figure as the verdict's lag for a degraded model once a check names a cause
#: (:data:`deadpan.diagnosis.DEGRADED_BEHIND_BASELINE_WITH_CAUSE`), so a check that fires on it also makes
#: the verdict degraded.
TRAILS_SIMPLE_MODELS = DEGRADED_BEHIND_BASELINE_WITH_CAUSE
#: Output spread under this share of the targets' spread is nearly constant: a symptom the checks explain
#: even before the report's collapse rule (:func:`deadpan.diagnosis.is_collapsed`, 5% for a regression
#: output) calls it collapsed.
NEARLY_CONSTANT_SPREAD = 0.1
#: Normalized CV gap (best simple model minus the label-permuted baseline, as a share of chance..perfect)
#: below which the inputs carry no usable information about the targets. 5% is within the CV noise of a few
#: hundred samples (the permutation-test idea of Ojala & Garriga 2010, "Permutation Tests for Studying
#: Classifier Performance"): the simple models do no better on the real pairing than on a shuffled one.
NO_SIGNAL_GAP = 0.05
#: Fewer learnability-probe (CV) samples than this give scores too noisy to judge.
LEARNABILITY_MIN_SAMPLES = 30
#: A moderate imbalance: the dominant class under this share between two classes (19:1) ...
MODERATE_SHARE = 0.95
#: ... and, with any number of classes, the largest class fewer than this many times the rarest one (the
#: same 19:1; with ten classes a 72% majority can hold 70 times the rarest class: extreme).
EXTREME_IMBALANCE_RATIO = MODERATE_SHARE / (1 - MODERATE_SHARE)
#: Slack over 1/fan_out (the distinct-row share when every row is equal) for float rounding.
SYMMETRY_TOLERANCE = 1e-6
#: Bounded activations whose units saturate at their limits, with a vanishing derivative there.
SATURATING_FAMILIES = ("sigmoid", "tanh", "hardsigmoid", "hardtanh", "softsign")


def output_probe(ev: Evidence) -> OutputProbe | None:
    """The probe batch the symptom is read from: the training batch, else the held-out batch."""
    return ev.probes.train_output if ev.probes.train_output is not None else ev.probes.heldout_output


def nearly_constant(probe: OutputProbe) -> bool:
    """Collapsed by the report's own rule (:func:`deadpan.diagnosis.is_collapsed`: non-finite outputs, one
    answer for every input, or nearly one with a chance score), or an output whose spread is under
    :data:`NEARLY_CONSTANT_SPREAD` of the targets'. One sample shows no collapse."""
    if probe.nonfinite_outputs:
        return True
    collapsed = probe.n_samples > 1 and is_collapsed(probe, regression=False)
    return collapsed or probe.output_spread_ratio < NEARLY_CONSTANT_SPREAD


def probe_misbehaves(probe: OutputProbe, poor_score: float = POOR_SCORE) -> bool:
    """This probe's output is collapsed or scores poorly."""
    return nearly_constant(probe) or not np.isfinite(probe.score) or probe.normalized_score < poor_score


def poor_score(ev: Evidence) -> float:
    """The normalized score under which this task's model scores poorly (:data:`POOR_SCORE`, or
    :data:`POOR_SKILL` for classes per position)."""
    return POOR_SKILL if ev.task is not None and ev.task.positions > 1 else POOR_SCORE


def misbehaving(ev: Evidence, poor: float | None = None) -> bool:
    """The model's output is collapsed, scores poorly (under ``poor``, else :func:`poor_score`), or trails
    simple models on the same inputs; False when no output was probed."""
    probe = output_probe(ev)
    if probe is None:
        return False
    bar = poor_score(ev) if poor is None else min(poor, poor_score(ev))
    return probe_misbehaves(probe, bar) or trails_simple_models(ev)


def trails_simple_models(ev: Evidence) -> bool:
    """The network's training score trails the learnability probe's best simple model by
    :data:`TRAILS_SIMPLE_MODELS` or more (both normalised, chance 0 and perfect 1)."""
    learn, train = ev.probes.learnability, ev.probes.train_output
    if learn is None or learn.per_position or train is None or not np.isfinite(train.score):
        return False
    best = learn.normalized(max(learn.linear_score, learn.nonlinear_score))
    return best - train.normalized_score >= TRAILS_SIMPLE_MODELS


def symptom_evidence(ev: Evidence) -> dict[str, Any]:
    """The output numbers a symptom check's judgement used, for the finding's ``evidence``."""
    probe = output_probe(ev)
    if probe is None:
        return {}
    return {
        "normalized_score": probe.normalized_score,
        "distinct_predictions": probe.distinct_predictions,
        "majority_share": probe.majority_share,
        "output_spread_ratio": probe.output_spread_ratio,
    }


def no_signal_bar(lp: LearnabilityProbe) -> float:
    """The normalized gap under which the learnability probe finds no signal: :data:`NO_SIGNAL_GAP`, raised
    on a small sample to the scores' sampling noise (``LearnabilityProbe.noise_gap``), so that a gap within
    that noise is no evidence of signal."""
    return max(NO_SIGNAL_GAP, lp.noise_gap())


def finds_no_signal(lp: LearnabilityProbe | None) -> bool:
    """The learnability probe finds no signal in the data, by DP102's bar (including its small-sample noise
    allowance); False without a probe or on fewer than :data:`LEARNABILITY_MIN_SAMPLES` samples."""
    if lp is None or lp.n_samples < LEARNABILITY_MIN_SAMPLES:
        return False
    return lp.signal_gap() < no_signal_bar(lp)


def extreme_imbalance(counts: np.ndarray) -> bool:
    """The largest class holds ``EXTREME_IMBALANCE_RATIO`` times the rarest present class's samples or more
    (``counts``: samples per class id, zeros for absent classes)."""
    present = counts[counts > 0]
    return len(present) >= 2 and present.max() >= EXTREME_IMBALANCE_RATIO * present.min()


def symmetric(w: WeightStats) -> bool:
    """Every output unit's weight row is the same (zeros or a constant): only meaningful for fan_out > 1."""
    return w.fan_out > 1 and w.distinct_rows <= 1.0 / w.fan_out + SYMMETRY_TOLERANCE


def loss_curve(training: TrainingStats) -> tuple[np.ndarray, np.ndarray]:
    """The recorded training loss as (steps, values), finite points only, in step order."""
    values = np.asarray(training.loss, dtype=float)
    if len(training.loss_steps) == len(values):
        steps = np.asarray(training.loss_steps, dtype=float)
    else:
        steps = np.arange(len(values), dtype=float)
    keep = np.isfinite(values) & np.isfinite(steps)
    steps, values = steps[keep], values[keep]
    order = np.argsort(steps, kind="stable")
    return steps[order], values[order]


def head(values: np.ndarray, fraction: float = 0.1) -> float:
    """Median of the first ``fraction`` of the values (at least one): a noise-robust starting value."""
    n = max(1, int(len(values) * fraction))
    return float(np.median(values[:n]))


def tail(values: np.ndarray, fraction: float = 0.2) -> float:
    """Median of the last ``fraction`` of the values (at least one): a noise-robust final value."""
    n = max(1, int(len(values) * fraction))
    return float(np.median(values[-n:]))


def user_lr(ev: Evidence) -> float | None:
    """The learning rate the user's optimizer ran with, from the loop or the LR range test."""
    if ev.training is not None and ev.training.optimizer is not None:
        return ev.training.optimizer.lr
    if ev.probes.lr_range is not None:
        return ev.probes.lr_range.user_lr
    return None


def loss_name(ev: Evidence) -> str:
    """The loss as the user wrote it: ``binary_crossentropy`` for Keras, ``F.cross_entropy`` for PyTorch."""
    if ev.loss is None:
        return "the loss"
    return ev.loss.name or f"F.{ev.loss.function}"


def optimizer_name(ev: Evidence) -> str:
    """The class name of the user's optimizer ("SGD"), ``Adam`` when unknown: the one a fix constructs."""
    if ev.training is not None and ev.training.optimizer is not None and ev.training.optimizer.name:
        return ev.training.optimizer.name
    return "Adam"


def _keras_loss(ev: Evidence) -> bool:
    """The loss follows Keras' conventions (the model is a Keras model)."""
    return ev.model is not None and ev.model.framework == "keras"


def class_axis(ev: Evidence, shape: tuple[int, ...]) -> int:
    """The class axis of a loss input of ``shape``: the last in Keras, else dim 1 (dim 0 unbatched)."""
    if _keras_loss(ev):
        return len(shape) - 1
    return 1 if len(shape) >= 2 else 0


def one_hot_loss(ev: Evidence) -> bool:
    """The categorical loss takes one-hot rows, never class ids: Keras' non-sparse categorical losses."""
    return _keras_loss(ev) and ev.loss is not None and not ev.loss.name.startswith("sparse")


#: Losses that regress on real-valued targets.
REGRESSION_LOSSES = ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss")


def is_classification(ev: Evidence) -> bool:
    return ev.task is not None and ev.task.kind in ("multiclass", "binary")


def is_regression(ev: Evidence) -> bool:
    if ev.task is not None and ev.task.kind != "unknown":
        return ev.task.kind == "regression"
    return ev.loss is not None and ev.loss.function in REGRESSION_LOSSES


def numeric(a: np.ndarray) -> bool:
    return np.issubdtype(np.asarray(a).dtype, np.number) or np.asarray(a).dtype == np.bool_


def rows(x: np.ndarray) -> np.ndarray:
    """The sample as a float (n, features) matrix (images and sequences flattened)."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        return a.reshape(1, 1)
    return a.reshape(a.shape[0], int(np.prod(a.shape[1:])))  # also for no rows (model inputs by keyword)


def class_labels(ev: Evidence, y: np.ndarray) -> np.ndarray | None:
    """Targets as integer class ids for a multiclass/binary task, None when they cannot be read as such.

    One-hot or probability targets (n, C) become their argmax; binary float targets are thresholded at 0.5.
    """
    if ev.task is None or ev.task.kind not in ("multiclass", "binary") or not numeric(y):
        return None
    a = np.asarray(y, dtype=float)
    if a.ndim >= 2 and a.shape[-1] > 1 and ev.task.kind == "multiclass":
        a = a.reshape(-1, a.shape[-1])
        a = a[np.isfinite(a).all(axis=1)]
        return np.argmax(a, axis=1).astype(int) if len(a) else None
    a = a.reshape(-1)
    a = a[np.isfinite(a)]
    if len(a) == 0:
        return None
    if np.all(a == np.round(a)):
        if a.min() < 0:
            return None
        return a.astype(int)
    if ev.task.kind == "binary":
        return (a >= 0.5).astype(int)
    return None
