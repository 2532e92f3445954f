"""DP502 loss-detached."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding

#: ``backward()`` was seen on a tensor with no autograd history: the bug is observed directly.
STRENGTH_DETACHED = 0.95
#: No parameter had a gradient at any step, without a detached ``backward()`` being seen: the loss was cut
#: from the graph some other way (or the gradients were cleared between ``backward()`` and ``step()``).
STRENGTH_NO_GRAD = 0.9


@register
class LossDetached(Check):
    """The loss that is back-propagated is cut off from the model.

    What it detects:
        ``backward()`` called on a tensor with no autograd history (a loss rebuilt from ``loss.item()``,
        ``.detach()``, ``.numpy()`` or ``torch.tensor(...)``), or optimizer steps at which no parameter of the
        model ever had a gradient.

    Why it makes the output constant:
        Without a path from the loss back to the weights no gradient reaches them: every optimizer step is a
        no-op (or only applies weight decay), so the model keeps its initial weights, whose output is often
        nearly the same for every input.

    Fix:
        Call ``.backward()`` on the loss tensor the loss function returns, ``loss = loss_fn(model(x), y);
        loss.backward()``; use ``loss.item()`` only for logging, and do not wrap the loss in ``torch.tensor``.
    """

    code = "DP502"
    name = "loss-detached"
    category = "train.loop"
    requires = ("training",)

    def judge(self, ev: Evidence) -> Finding | None:
        tr = ev.training
        assert tr is not None
        evidence = {
            "steps": tr.steps,
            "backward_calls": tr.backward_calls,
            "backward_on_detached": tr.backward_on_detached,
            "steps_without_grad": tr.steps_without_grad,
        }
        if tr.backward_on_detached > 0:
            return self.finding(
                ev,
                message=f"`backward()` was called {tr.backward_on_detached} time(s) on a tensor with no "
                "autograd history: the loss was rebuilt outside the graph, so no gradient reaches the "
                "weights and they keep their initial values.",
                change=Change("backward_on_loss", what="loss", params={"cleared_between": False}),
                evidence=evidence,
                strength=STRENGTH_DETACHED,
            )
        if tr.steps > 0 and tr.steps_without_grad >= tr.steps:
            return self.finding(
                ev,
                message=f"at all {tr.steps} optimizer steps no parameter of the model had a gradient: the "
                "loss is not connected to the weights (or the gradients are cleared between `backward()` "
                "and `step()`), so training never changes the model.",
                change=Change("backward_on_loss", what="loss", params={"cleared_between": True}),
                evidence=evidence,
                strength=STRENGTH_NO_GRAD,
            )
        return None
