"""Shared measurements for the symptom checks (learning rate, too short, overfit, over-regularised).

Not a check. A check about a symptom is only worth a finding when the model actually misbehaves, so the
checks in ``loss/``, ``optim/`` and ``train/`` that judge symptoms gate on :func:`misbehaving`, and the ones
that read the loss curve use :func:`loss_curve`, so they all treat non-finite values and short curves alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deadpan.evidence import Evidence, OutputProbe, TrainingStats

#: Normalized score (0 = the input-independent baseline, 1 = perfect) below which the model is "degraded":
#: it recovers less than half of what separates chance from perfect (DESIGN.md section 5, verdict degraded).
POOR_SCORE = 0.5
#: Output spread relative to the targets' spread below which the output is (nearly) the same for every input.
COLLAPSED_SPREAD = 0.1


def output_probe(ev: Evidence) -> OutputProbe | None:
    """The probe batch the symptom is read from: the training batch, else the held-out batch."""
    return ev.probes.train_output if ev.probes.train_output is not None else ev.probes.heldout_output


def collapsed(probe: OutputProbe) -> bool:
    """The output is (nearly) constant: one prediction, no spread, or non-finite outputs."""
    one_answer = probe.n_samples > 1 and probe.distinct_predictions <= 1
    return probe.nonfinite_outputs or one_answer or probe.output_spread_ratio < COLLAPSED_SPREAD


def misbehaving(ev: Evidence, poor_score: float = POOR_SCORE) -> bool:
    """The model's output is collapsed or scores poorly; False when no output was probed."""
    probe = output_probe(ev)
    if probe is None:
        return False
    return collapsed(probe) or not np.isfinite(probe.score) or probe.normalized_score < poor_score


def symptom_evidence(ev: Evidence) -> dict[str, Any]:
    """The output numbers a symptom check's judgement used, for the finding's ``evidence``."""
    probe = output_probe(ev)
    if probe is None:
        return {}
    return {
        "normalized_score": probe.normalized_score,
        "distinct_predictions": probe.distinct_predictions,
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


def optimizer_call(ev: Evidence, **kwargs: str) -> str:
    """The optimizer construction to show in a fix: ``torch.optim.Adam(model.parameters(), lr=...)``."""
    name = "Adam"
    if ev.training is not None and ev.training.optimizer is not None and ev.training.optimizer.name:
        name = ev.training.optimizer.name
    args = "".join(f", {k}={v}" for k, v in kwargs.items())
    return f"torch.optim.{name}(model.parameters(){args})"
