"""Train with the learning rate the range test suggests."""

from __future__ import annotations

import dataclasses

from deadpan.checks.symptoms import is_keras
from deadpan.evidence import Evidence
from deadpan.findings import Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.keras_trial import KerasTrialSetup


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
        lr = f"{probe.suggested_lr:.2g}" if probe is not None and probe.suggested_lr else "the suggested rate"
        if is_keras(ev):
            return f"set the optimizer's `learning_rate={lr}`"
        return f"set the optimizer's learning rate to {lr} (`torch.optim.Adam(model.parameters(), lr={lr})`)"
