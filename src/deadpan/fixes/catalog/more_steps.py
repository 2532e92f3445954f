"""Train for longer."""

from __future__ import annotations

from deadpan.checks.symptoms import is_keras
from deadpan.evidence import Evidence
from deadpan.findings import Finding
from deadpan.fixes.base import Fix, TrialSetup, register

#: How many times the control's budget the fixed copy trains.
FACTOR = 4


@register
class MoreSteps(Fix):
    """Train four times as many steps. When the loss is still falling fast at the end, the model stopped
    before it learned more than the class prior or the mean; more steps let it get past that. The trial's
    budget is the exception to "same budget as the control": the budget is what this fix changes."""

    name = "more-steps"
    title = f"{FACTOR}x more training steps"
    categories = ("train.too_short",)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        return setup.but(f"{self.name} ({setup.steps} -> {setup.steps * FACTOR})", steps=setup.steps * FACTOR)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        steps = ev.training.steps if ev.training is not None else 0
        if is_keras(ev):
            return f"train for more epochs (`model.fit(..., epochs=...)`: {FACTOR}x the {steps} steps it ran)"
        return f"train for more epochs ({FACTOR}x the {steps} steps it ran), until the loss stops falling"
