"""Train every parameter: unfreeze the frozen ones and put all of them in the optimizer."""

from __future__ import annotations

import dataclasses

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.phrasebook import framework_of, render


@register
class TrainEveryParameter(Fix):
    """Make every parameter trainable (``requires_grad``) and give all of them to the optimizer. Layers frozen
    with random weights (a pretrained checkpoint that was never loaded, a backbone frozen before its weights
    arrived) pass on random features the head cannot learn from; trained, they learn features of their own."""

    name = "train-every-parameter"
    title = "training every parameter (frozen layers unfrozen)"
    categories = ("train.loop",)
    finding_names = ("frozen-random-layers",)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        model = setup.model_copy()
        frozen = [p for p in model.parameters() if not p.requires_grad]
        if not frozen:
            raise NotApplicable("every parameter already trains")
        for p in frozen:
            p.requires_grad_(True)
        return setup.but(
            f"{self.name} ({len(frozen)} frozen tensors)",
            model=model,
            optimizer=dataclasses.replace(setup.optimizer, left_out=()),
        )

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        fixes = [f.fix for f in findings if f.name in self.finding_names and f.fix]
        if fixes:
            return fixes[0]
        change = Change("unfreeze_layers", what="trainable", current=False, proposed=True)
        return render(change, framework_of(ev))
