"""Train one output unit with a binary loss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from deadpan.evidence import Evidence, Task
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.keras_trial import KerasTrialSetup, activation_of, weight_layers
from deadpan.phrasebook import framework_of, render

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class BinaryLogitLoss:
    """Binary cross-entropy of one logit per row against 0/1 targets (a class, so that trials can pickle
    it)."""

    def __call__(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        return F.binary_cross_entropy_with_logits(out.reshape(-1), target.reshape(-1).to(out.dtype))


@register
class BinaryLoss(Fix):
    """Replace a categorical loss over a single output unit by binary cross-entropy. A softmax over one unit
    is always 1, so a categorical loss there is the same constant for every input and its gradient is zero;
    binary cross-entropy of that unit's logit against 0/1 targets gives the unit something to learn."""

    name = "binary-loss"
    title = "binary cross-entropy on the one output unit"
    categories = ("loss.mismatch",)
    finding_names = ("categorical-loss-on-one-unit",)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        if setup.task.kind != "binary" and (setup.task.n_classes or 2) > 2:
            raise NotApplicable("more than two classes: the fix is more output units, not another loss")
        return setup.but(self.name, loss_fn=BinaryLogitLoss(), task=Task("binary", 2, 1))

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        import keras

        if (setup.task.n_classes or 2) > 2:
            raise NotApplicable("more than two classes: the fix is more output units, not another loss")
        layers = weight_layers(setup.config)
        logits = not layers or activation_of(layers[-1]) == "linear"
        loss = keras.losses.BinaryCrossentropy(from_logits=logits)
        return setup.but(f"{self.name} (from_logits={logits})", loss=loss, task=Task("binary", 2, 1))

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return render(Change("binary_loss", what="loss", proposed="binary_cross_entropy"), framework_of(ev))
