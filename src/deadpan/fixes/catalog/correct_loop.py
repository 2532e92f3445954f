"""Train with a correct loop: the one deadpan runs when it owns the loop."""

from __future__ import annotations

import dataclasses

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, LoopSpec, NotApplicable, TrialSetup, register
from deadpan.phrasebook import framework_of, render


@register
class CorrectLoop(Fix):
    """Run the standard loop: ``zero_grad``, forward, loss, ``backward`` on the loss itself, ``step``, a fresh
    batch each step, the model in train mode, every trainable parameter in the optimizer. A loop bug stops or
    scrambles the updates; with it gone the same model and data train as intended."""

    name = "correct-loop"
    title = "a corrected training loop"
    categories = ("train.loop",)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        if setup.loop.correct and not setup.optimizer.left_out:
            raise NotApplicable("the loop bug it reports is not one deadpan can reproduce and correct")
        if not setup.loop.fresh_batches and len(setup.train) < 2:
            raise NotApplicable("only one batch was captured, so fresh batches cannot be shown")
        return setup.but(
            self.name, loop=LoopSpec(), optimizer=dataclasses.replace(setup.optimizer, left_out=())
        )

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        fixes = [f.fix for f in findings if f.category == "train.loop" and f.fix]
        if fixes:
            return "; ".join(dict.fromkeys(fixes))
        return render(Change("correct_loop", what="training loop"), framework_of(ev))
