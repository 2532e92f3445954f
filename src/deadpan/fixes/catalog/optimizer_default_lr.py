"""Train with the learning rate the optimizer's family is usually run at (an intervention only)."""

from __future__ import annotations

import dataclasses

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.keras_trial import KerasTrialSetup
from deadpan.phrasebook import framework_of, render

#: The usual learning rate per optimizer family (the frameworks' defaults, lower-case class names): the
#: rate most published training runs of small networks start from.
USUAL_LR = {
    "adam": 1e-3,
    "adamw": 1e-3,
    "adamax": 2e-3,
    "nadam": 1e-3,
    "radam": 1e-3,
    "rmsprop": 1e-3,
    "sgd": 1e-2,
    "adagrad": 1e-2,
}
#: The user's rate is this many times off the usual one, or the trial is not worth its time (the range
#: test and the tenfold step already cover rates near it).
FAR_OFF = 10.0


def usual_lr(ev: Evidence) -> tuple[float, float] | None:
    """(the user's learning rate, the usual one for their optimizer) when they are ``FAR_OFF`` apart."""
    opt = ev.training.optimizer if ev.training is not None else None
    if opt is None or not opt.name or opt.lr <= 0:
        return None
    usual = USUAL_LR.get(opt.name.lower())
    if usual is None or max(usual / opt.lr, opt.lr / usual) < FAR_OFF:
        return None
    return opt.lr, usual


def direction(ev: Evidence) -> str | None:
    """The category the usual rate answers: ``optim.lr_too_low`` when it is above the user's."""
    rates = usual_lr(ev)
    if rates is None:
        return None
    return "optim.lr_too_low" if rates[1] > rates[0] else "optim.lr_too_high"


@register
class OptimizerDefaultLr(Fix):
    """The learning rate the optimizer's family is usually run at (Adam 1e-3, SGD 1e-2), for a rate ten
    times or more away from it. A second opinion beside the range test, whose short sweep over noisy
    minibatch losses can point at a rate an adaptive optimizer cannot use, and beside the tenfold step,
    which does not reach a rate a thousand times off. Tried by the intervention search only (its stand-in
    finding), not as the fix of a check's finding."""

    name = "optimizer-default-lr"
    title = "the optimizer's usual learning rate"
    categories = ("optim.lr_too_high", "optim.lr_too_low")
    finding_names = ("intervention",)

    def _rate(self, ev: Evidence) -> float:
        rates = usual_lr(ev)
        if rates is None:
            raise NotApplicable("the learning rate is within ten times of its optimizer's usual one")
        return rates[1]

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        lr = self._rate(ev)
        return setup.but(
            f"{self.name} ({setup.optimizer.lr:.2g} -> {lr:.2g})",
            optimizer=dataclasses.replace(setup.optimizer, lr=lr),
        )

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        lr = self._rate(ev)
        return setup.but(f"{self.name} ({setup.lr:.2g} -> {lr:.2g})", lr=lr)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        rates = usual_lr(ev)
        opt = ev.training.optimizer if ev.training is not None else None
        change = Change(
            "set_learning_rate",
            what="learning_rate",
            current=rates[0] if rates else None,
            proposed=rates[1] if rates else None,
            params={"optimizer": opt.name if opt is not None and opt.name else "Adam"},
        )
        return render(change, framework_of(ev))
