"""Move the learning rate by a factor of ten, in the direction the diagnosis points."""

from __future__ import annotations

import dataclasses

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, TrialSetup, register
from deadpan.fixes.keras_trial import KerasTrialSetup
from deadpan.phrasebook import framework_of, render

FACTOR = 10.0


@register
class ScaleLr(Fix):
    """Divide the learning rate by ten when it is too high, multiply it by ten when it is too low. The plain
    decade step a practitioner tries first, and a second opinion next to the range test's suggestion, which
    rests on a short sweep of a few dozen batches."""

    name = "scale-lr"
    title = "the learning rate moved tenfold"
    categories = ("optim.lr_too_high", "optim.lr_too_low")

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        high = any(f.category == "optim.lr_too_high" for f in findings)
        lr = setup.optimizer.lr / FACTOR if high else setup.optimizer.lr * FACTOR
        return setup.but(
            f"learning rate {'/' if high else 'x'}{FACTOR:g} ({setup.optimizer.lr:.2g} -> {lr:.2g})",
            optimizer=dataclasses.replace(setup.optimizer, lr=lr),
        )

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        high = any(f.category == "optim.lr_too_high" for f in findings)
        lr = setup.lr / FACTOR if high else setup.lr * FACTOR
        return setup.but(
            f"learning rate {'/' if high else 'x'}{FACTOR:g} ({setup.lr:.2g} -> {lr:.2g})", lr=lr
        )

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        high = any(f.category == "optim.lr_too_high" for f in findings)
        opt = ev.training.optimizer if ev.training is not None else None
        lr = opt.lr if opt is not None else None
        new = None if lr is None else lr / FACTOR if high else lr * FACTOR
        change = Change(
            "scale_learning_rate",
            what="learning_rate",
            current=lr,
            proposed=new,
            params={"direction": "lower" if high else "raise", "factor": FACTOR},
        )
        return render(change, framework_of(ev))
