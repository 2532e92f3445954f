"""Shared measurements for the data, model and init checks. Not a check.

The symptom gate (:func:`misbehaving`) uses the same definition as ``checks/train/_symptoms.py``: a concern
that only harms a model that misbehaves (imbalance, capacity, dead units, saturation, init scale ...) is worth
a finding only when the probed output is collapsed or scores poorly, so healthy runs stay silent.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deadpan.evidence import Evidence, OutputProbe

#: Normalized score (0 = the input-independent baseline, 1 = perfect) below which the model is "degraded":
#: it recovers less than half of what separates chance from perfect (DESIGN.md section 5, verdict degraded).
POOR_SCORE = 0.5
#: Output spread relative to the targets' spread below which the output is (nearly) the same for every input.
COLLAPSED_SPREAD = 0.1
#: Losses that regress on real-valued targets.
REGRESSION_LOSSES = ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss")


def collapsed(probe: OutputProbe) -> bool:
    """The output is (nearly) constant: one prediction, no spread, or non-finite outputs."""
    one_answer = probe.n_samples > 1 and probe.distinct_predictions <= 1
    return probe.nonfinite_outputs or one_answer or probe.output_spread_ratio < COLLAPSED_SPREAD


def probe_misbehaves(probe: OutputProbe, poor_score: float = POOR_SCORE) -> bool:
    """This probe's output is collapsed or scores poorly."""
    return collapsed(probe) or not np.isfinite(probe.score) or probe.normalized_score < poor_score


def misbehaving(ev: Evidence, poor_score: float = POOR_SCORE) -> bool:
    """The model's training output is collapsed or scores poorly; False when no output was probed."""
    probe = ev.probes.train_output if ev.probes.train_output is not None else ev.probes.heldout_output
    if probe is None:
        return False
    return probe_misbehaves(probe, poor_score)


def symptom_evidence(ev: Evidence) -> dict[str, Any]:
    """The output numbers a gated check's judgement used, for the finding's ``evidence``."""
    probe = ev.probes.train_output if ev.probes.train_output is not None else ev.probes.heldout_output
    if probe is None:
        return {}
    return {
        "normalized_score": probe.normalized_score,
        "distinct_predictions": probe.distinct_predictions,
        "majority_share": probe.majority_share,
        "output_spread_ratio": probe.output_spread_ratio,
    }


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
    return a.reshape(a.shape[0], -1)


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
