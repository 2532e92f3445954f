"""Train with the learning rate the range test suggests."""

from __future__ import annotations

import dataclasses

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.keras_trial import KerasTrialSetup
from deadpan.phrasebook import framework_of, render


@register
class LrFromRangeTest(Fix):
    """Use the learning rate from deadpan's range test (a tenth of the rate at the lowest loss of an
    exponential sweep, fast.ai's rule) with the user's optimizer class and other hyper-parameters. A rate
    too high jumps over every minimum or to a constant answer; one too low leaves the weights where they
    started."""

    name = "lr-from-range-test"
    title = "the learning rate from the range test"
    categories = ("optim.lr_too_high", "optim.lr_too_low")

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        probe = ev.probes.lr_range
        if probe is None or probe.suggested_lr is None:
            raise NotApplicable("the learning-rate range test found no rate to suggest")
        lr = float(probe.suggested_lr)
        if abs(lr - setup.optimizer.lr) <= 0.05 * max(setup.optimizer.lr, 1e-12):
            raise NotApplicable(f"the range test suggests the rate already used ({lr:.2g})")
        return setup.but(
            f"{self.name} ({setup.optimizer.lr:.2g} -> {lr:.2g})",
            optimizer=dataclasses.replace(setup.optimizer, lr=lr),
        )

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        probe = ev.probes.lr_range
        if probe is None or probe.suggested_lr is None:
            raise NotApplicable("the learning-rate range test found no rate to suggest")
        lr = float(probe.suggested_lr)
        if abs(lr - setup.lr) <= 0.05 * max(setup.lr, 1e-12):
            raise NotApplicable(f"the range test suggests the rate already used ({lr:.2g})")
        return setup.but(f"{self.name} ({setup.lr:.2g} -> {lr:.2g})", lr=lr)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        probe = ev.probes.lr_range
        lr = probe.suggested_lr if probe is not None else None
        opt = ev.training.optimizer if ev.training is not None else None
        change = Change(
            "set_learning_rate",
            what="learning_rate",
            current=probe.user_lr if probe else None,
            proposed=lr,
            params={"optimizer": opt.name if opt is not None and opt.name else "Adam"},
        )
        return render(change, framework_of(ev))
