"""Give the loss targets of the output's shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from deadpan.checks.symptoms import is_keras
from deadpan.evidence import Evidence
from deadpan.findings import Finding
from deadpan.fixes.base import Fix, TrialSetup, register


@dataclass(frozen=True)
class ShapedLoss:
    """Wraps the loss: the target reshaped to the output's shape when they hold as many values."""

    inner: Any

    def __call__(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if target.shape != out.shape and target.numel() == out.numel():
            target = target.reshape(out.shape)
        result: torch.Tensor = self.inner(out, target)
        return result


@register
class MatchTargetShape(Fix):
    """Reshape the targets to the output's shape before the loss. An ``[n, 1]`` output against an ``[n]``
    target broadcasts to ``[n, n]``: every output is pulled towards every target, and the best answer is
    their mean, the same for every input."""

    name = "match-target-shape"
    title = "targets of the output's shape"
    categories = ("loss.mismatch",)
    finding_names = ("broadcast-target-shape",)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        return setup.but(self.name, loss_fn=ShapedLoss(setup.loss_fn))

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        if is_keras(ev):
            return "give `fit` targets of the output's shape: `y.reshape(-1, 1)` for one output unit"
        return "match the shapes: `loss_fn(out, y.view_as(out))` or `loss_fn(out.squeeze(1), y)`"
