"""Shared measurements for the checks. Not a check.

A concern that only harms a model that misbehaves (imbalance, capacity, dead units, a learning rate, a short
run ...) is worth a finding only when the probed output is collapsed or scores poorly, so every such check
gates on :func:`misbehaving` and healthy runs stay silent. Checks that read the loss curve use
:func:`loss_curve`, so they all treat non-finite values and short curves alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deadpan.evidence import Evidence, OutputProbe, TrainingStats

#: Normalized score (0 = the input-independent baseline, 1 = perfect) below which the model is "degraded":
#: it recovers less than half of what separates chance from perfect (DESIGN.md section 5, verdict degraded).
POOR_SCORE = 0.5
#: The network also misbehaves when it trails the learnability probe's best simple model (on the same
#: inputs) by this much of the chance-to-perfect range: it failed to learn what is plainly learnable. The
#: same figure as the verdict's lag for a degraded model once a check names a cause
#: (:data:`deadpan.diagnosis.DEGRADED_BEHIND_BASELINE_WITH_CAUSE`), so a check that fires on it also makes
#: the verdict degraded.
TRAILS_SIMPLE_MODELS = 0.15
#: Output spread relative to the targets' spread below which the output is (nearly) the same for every input.
COLLAPSED_SPREAD = 0.1


def output_probe(ev: Evidence) -> OutputProbe | None:
    """The probe batch the symptom is read from: the training batch, else the held-out batch."""
    return ev.probes.train_output if ev.probes.train_output is not None else ev.probes.heldout_output


def collapsed(probe: OutputProbe) -> bool:
    """The output is (nearly) constant: one prediction, no spread, or non-finite outputs."""
    one_answer = probe.n_samples > 1 and probe.distinct_predictions <= 1
    return probe.nonfinite_outputs or one_answer or probe.output_spread_ratio < COLLAPSED_SPREAD


def probe_misbehaves(probe: OutputProbe, poor_score: float = POOR_SCORE) -> bool:
    """This probe's output is collapsed or scores poorly."""
    return collapsed(probe) or not np.isfinite(probe.score) or probe.normalized_score < poor_score


def misbehaving(ev: Evidence, poor_score: float = POOR_SCORE) -> bool:
    """The model's output is collapsed, scores poorly, or trails simple models on the same inputs; False
    when no output was probed."""
    probe = output_probe(ev)
    if probe is None:
        return False
    return probe_misbehaves(probe, poor_score) or trails_simple_models(ev)


def trails_simple_models(ev: Evidence) -> bool:
    """The network's training score trails the learnability probe's best simple model by
    :data:`TRAILS_SIMPLE_MODELS` or more (both normalised, chance 0 and perfect 1)."""
    learn, train = ev.probes.learnability, ev.probes.train_output
    if learn is None or train is None or not np.isfinite(train.score):
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


def is_keras(ev: Evidence) -> bool:
    """The evidence comes from a Keras model: fixes must be written in Keras terms."""
    return ev.model is not None and ev.model.framework == "keras"


def loss_name(ev: Evidence) -> str:
    """The loss as the user wrote it: ``binary_crossentropy`` for Keras, ``F.cross_entropy`` for PyTorch."""
    if ev.loss is None:
        return "the loss"
    return ev.loss.name or f"F.{ev.loss.function}"


def keras_optimizer_call(ev: Evidence, **kwargs: str) -> str:
    """The Keras optimizer construction to show in a fix: ``keras.optimizers.Adam(learning_rate=...)``."""
    name = "Adam"
    if ev.training is not None and ev.training.optimizer is not None and ev.training.optimizer.name:
        name = ev.training.optimizer.name
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    return f"keras.optimizers.{name}({args})"


def keras_compile_call(ev: Evidence, **kwargs: str) -> str:
    """The ``model.compile`` call with a changed optimizer, for a Keras fix:
    ``model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), ...)``."""
    return f"model.compile(optimizer={keras_optimizer_call(ev, **kwargs)}, ...)"


def keras_output_layer(units: int | str, from_logits: bool | None) -> str:
    """The Keras classification head for ``units`` classes: a softmax unless the loss takes logits."""
    return f"layers.Dense({units})" if from_logits else f'layers.Dense({units}, activation="softmax")'


def optimizer_call(ev: Evidence, **kwargs: str) -> str:
    """The optimizer construction to show in a fix: ``torch.optim.Adam(model.parameters(), lr=...)``."""
    name = "Adam"
    if ev.training is not None and ev.training.optimizer is not None and ev.training.optimizer.name:
        name = ev.training.optimizer.name
    args = "".join(f", {k}={v}" for k, v in kwargs.items())
    return f"torch.optim.{name}(model.parameters(){args})"


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
