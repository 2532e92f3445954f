"""DP501 zero-grad-missing."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding

#: Fewer optimizer steps than this are too few to tell a missing ``zero_grad`` from a short probe.
MIN_STEPS = 3
#: Fraction of steps taken without clearing the gradients at or above which ``zero_grad`` is missing.
#: Gradient accumulation clears them once every k steps ((k - 1) / k of the steps, 0.75 for k = 4), so it
#: stays below this unless k >= 10.
UNCLEARED_FRACTION = 0.9
STRENGTH = 0.9


@register
class ZeroGradMissing(Check):
    """The gradients are never cleared between optimizer steps.

    What it detects:
        A training loop that calls ``optimizer.step()`` but never ``optimizer.zero_grad()`` (or clears the
        gradients before fewer than 10% of its steps).

    Why it makes the output constant:
        ``loss.backward()`` adds to ``.grad``; without clearing, step t applies the sum of all t gradients so
        far. The steps grow without bound and keep pushing in the direction of the first batches' average
        gradient, so the weights run away, units die or saturate, and the output settles on one answer (or
        becomes NaN).

    Fix:
        Call ``optimizer.zero_grad()`` at the start of every training step, before ``loss.backward()`` (with
        gradient accumulation: right after every ``optimizer.step()``).
    """

    code = "DP501"
    name = "zero-grad-missing"
    category = "train.loop"
    requires = ("training",)

    def judge(self, ev: Evidence) -> Finding | None:
        tr = ev.training
        assert tr is not None
        if tr.steps < MIN_STEPS:
            return None
        uncleared = tr.steps_without_zero_grad / tr.steps
        if tr.zero_grad_calls > 0 and uncleared < UNCLEARED_FRACTION:
            return None
        if tr.zero_grad_calls == 0:
            seen = f"`zero_grad()` was never called in {tr.steps} optimizer steps"
        else:
            seen = (
                f"{tr.steps_without_zero_grad} of {tr.steps} optimizer steps ran without clearing gradients"
            )
        return self.finding(
            ev,
            message=f"{seen}: every `loss.backward()` adds to the gradients of all the previous steps, so "
            "the steps grow without bound and drive the weights to a constant output.",
            change=Change("call_zero_grad", what="gradients"),
            evidence={
                "steps": tr.steps,
                "zero_grad_calls": tr.zero_grad_calls,
                "steps_without_zero_grad": tr.steps_without_zero_grad,
                "uncleared_fraction": uncleared,
            },
            strength=STRENGTH,
        )
