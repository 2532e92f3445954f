"""Give the loss targets of the output's shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.keras_trial import KerasTrialSetup, weight_layers
from deadpan.phrasebook import framework_of, render

if TYPE_CHECKING:
    import torch


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

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        layers = weight_layers(setup.config)
        units = int(layers[-1].get("units", 0)) if layers else 0
        if units < 1:
            raise NotApplicable("the output layer's width is unknown")

        def shaped(y: np.ndarray) -> np.ndarray:
            if y.ndim == 2 and y.shape[1] == 2 and units == 1 and _one_hot(y):
                return y[:, 1:]  # one-hot of two classes: the positive class's column is the target
            if y.size == len(y) * units:
                return y.reshape(len(y), units)
            raise NotApplicable(f"targets of shape {list(y.shape[1:])} cannot be read as {units} output(s)")

        change = f"{self.name} ({list(setup.y.shape[1:])} -> [{units}])"
        return setup.but(change, y=shaped(setup.y), y_heldout=shaped(setup.y_heldout))

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return render(Change("match_target_shape", what="target shape"), framework_of(ev))


def _one_hot(y: np.ndarray) -> bool:
    """Every row holds one 1 and zeros elsewhere."""
    return bool(np.isin(y, (0, 1)).all() and (y.sum(1) == 1).all())
