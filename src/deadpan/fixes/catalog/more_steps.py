"""Train for longer."""

from __future__ import annotations

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, TrialSetup, register
from deadpan.fixes.control import MAX_STEPS
from deadpan.fixes.keras_trial import KerasTrialSetup
from deadpan.phrasebook import framework_of, render

#: How many times the control's budget the fixed copy trains.
FACTOR = 4


def longer(steps: int) -> int:
    """The fixed copy's budget: FACTOR times the control's, at least MAX_STEPS."""
    return max(steps * FACTOR, MAX_STEPS)


@register
class MoreSteps(Fix):
    """Train four times as many steps, and at least as many as the longest control trial (300). When the loss
    is still falling fast at the end, the model stopped before it learned more than the class prior or the
    mean; more steps let it get past that. The trial's budget is the exception to "same budget as the
    control": the budget is what this fix changes. The floor matters for the runs this fix is for: a run of
    46 steps has a 50-step control, and 4x that is still shorter than a healthy training of the same data."""

    name = "more-steps"
    title = "more training steps"
    categories = ("train.too_short",)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        steps = longer(setup.steps)
        return setup.but(f"{self.name} ({setup.steps} -> {steps})", steps=steps)

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        steps = longer(setup.steps)
        return setup.but(f"{self.name} ({setup.steps} -> {steps})", steps=steps)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        steps = ev.training.steps if ev.training is not None else 0
        change = Change(
            "more_epochs", what="steps", current=steps, proposed=FACTOR * steps, params={"factor": FACTOR}
        )
        return render(change, framework_of(ev))
