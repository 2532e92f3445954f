"""DP506 no-optimizer-step."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding

#: Relative change of a layer's weight std beyond which the weights moved: some update happened, just not
#: through an optimizer deadpan saw (a manual ``p.data -= lr * p.grad``), so this check stays silent.
MOVED_TOLERANCE = 1e-6
STRENGTH = 0.95


@register
class NoOptimizerStep(Check):
    """Gradients are computed but the optimizer never steps.

    What it detects:
        ``loss.backward()`` is called, but ``optimizer.step()`` never is (and the weights did not change).

    Why it makes the output constant:
        The gradients are computed and thrown away: the weights keep their initial values, and a freshly
        initialised network often gives (nearly) the same output for every input.

    Fix:
        Call ``optimizer.step()`` after ``loss.backward()`` in every training step (and
        ``optimizer.zero_grad()`` before the next ``backward()``).
    """

    code = "DP506"
    name = "no-optimizer-step"
    category = "train.loop"
    requires = ("training",)

    def judge(self, ev: Evidence) -> Finding | None:
        tr = ev.training
        assert tr is not None
        if tr.backward_calls <= 0 or tr.steps > 0:
            return None
        if ev.model is not None:
            initial = {w.name: w.std for w in ev.model.initial_weights}
            for w in ev.model.final_weights:
                before = initial.get(w.name)
                if before is not None and abs(w.std - before) > MOVED_TOLERANCE * max(abs(before), 1e-12):
                    return None
        return self.finding(
            ev,
            message=f"`loss.backward()` ran {tr.backward_calls} times but `optimizer.step()` never did: the "
            "gradients are thrown away and the model keeps its initial weights.",
            change=Change("call_optimizer_step", what="optimizer step"),
            evidence={"backward_calls": tr.backward_calls, "steps": tr.steps},
            strength=STRENGTH,
        )
