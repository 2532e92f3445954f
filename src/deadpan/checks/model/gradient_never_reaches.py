"""DP223 gradient-never-reaches."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import misbehaving, symptom_evidence
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: Strength grows with the share of the trainable parameters (elements) the loss never reached:
#: ``STRENGTH_BASE + share``, up to ``STRENGTH_MAX``.
STRENGTH_BASE = 0.5
STRENGTH_MAX = 0.9
#: From this share of the trainable parameters the finding is an error; below it a warning (an unused
#: auxiliary head is common and harmless).
ERROR_SHARE = 0.05
#: Parameter names listed at most.
MAX_NAMES = 5


@register
class GradientNeverReaches(Check):
    """Parameters the loss never reaches: the output does not depend on part of the model.

    What it detects:
        Trainable parameters that had no gradient at all at every sampled training step while the rest of
        the model had one, on a model whose output is collapsed or scores poorly. The gradient-flow audit:
        the optimizer holds them, but nothing the loss depends on was computed from them. (A gradient of
        zeros did reach its parameter: dead units or saturation stopped the signal, DP220's and DP221's
        findings.) Also parameters the loss reaches only through an operation whose derivative is zero
        everywhere (``torch.round``, ``floor``, ``ceil``, ``trunc``, ``sign``), read from the autograd graph
        of the first loss: their gradient is a zero at every step, whatever the data, and the operation is
        named.

    Why it makes the output constant:
        What those layers read never reaches the output: an encoder whose state the decoder does not receive,
        a branch whose result is computed and dropped, a value cut from the graph by ``.detach()``,
        ``torch.no_grad()``, ``.item()``, ``argmax`` or rounding. When they are the layers that take the input
        (or part of it), the output cannot depend on that input, and the model learns the best answer without
        it: the average over what it cannot see, the same for every input.

    Fix:
        Pass their result on to the output in ``forward`` (the encoder's state to the decoder, the branch into
        the sum); remove the operation that cuts the graph (or let the gradient through it with a
        straight-through estimator, ``x + (torch.round(x) - x).detach()``); or delete the layers if they are
        not needed.
    """

    code = "DP223"
    name = "gradient-never-reaches"
    category = "model.capacity"
    requires = ("training", "model")

    def judge(self, ev: Evidence) -> Finding | None:
        assert ev.training is not None and ev.model is not None
        tr, trainable = ev.training, ev.model.n_trainable
        if trainable <= 0 or not misbehaving(ev):
            return None
        if tr.cut_elements:
            return self._cut(ev, trainable)
        if not tr.unreached or tr.unreached_elements >= trainable:
            return None  # no parameter had a gradient: the loop checks' finding (a detached loss)
        share = tr.unreached_elements / trainable
        shown = _modules_shown(tr.unreached)
        return self._report(
            ev,
            message=f"the loss never reaches {shown} ({tr.unreached_elements} parameters, {share:.0%} of "
            "the trainable ones): no gradient at any sampled step, so the output does not depend on what "
            "they compute, and whatever they read cannot shape the answer.",
            names=tr.unreached,
            evidence={"unreached": list(tr.unreached), "unreached_elements": tr.unreached_elements},
            share=share,
        )

    def _cut(self, ev: Evidence, trainable: int) -> Finding:
        """Parameters behind an operation whose derivative is zero everywhere."""
        tr = ev.training
        assert tr is not None
        op = next(iter(tr.gradient_cuts))
        every = tuple(n for cut in tr.gradient_cuts.values() for n in cut)
        share = min(1.0, tr.cut_elements / trainable)
        return self._report(
            ev,
            message=f"the gradient dies at `{op}` in the forward pass: the loss reaches "
            f"{_modules_shown(every)} ({tr.cut_elements} parameters, {share:.0%} of the trainable ones) "
            f"only through it, and `{op}`'s derivative is zero everywhere, so their gradient is zero at "
            "every step and they never learn from the loss.",
            names=every,
            evidence={"cut_by": op, "cut": list(every), "cut_elements": tr.cut_elements},
            share=share,
            cut_by=op,
        )

    def _report(
        self,
        ev: Evidence,
        message: str,
        names: tuple[str, ...],
        evidence: dict[str, object],
        share: float,
        cut_by: str | None = None,
    ) -> Finding:
        modules = _modules(names)
        params: dict[str, object] = {"names": modules[:MAX_NAMES], "more": max(0, len(modules) - MAX_NAMES)}
        if cut_by is not None:
            params["cut_by"] = cut_by
        return self.finding(
            ev,
            message=message,
            change=Change("reconnect_parameters", what="forward", params=params),
            evidence={**evidence, "share": share, **symptom_evidence(ev)},
            strength=min(STRENGTH_MAX, STRENGTH_BASE + share),
            severity=Severity.ERROR if share >= ERROR_SHARE else Severity.WARNING,
        )


def _modules(names: tuple[str, ...]) -> list[str]:
    """The modules that hold ``names``, in order, once each."""
    return list(dict.fromkeys(n.rsplit(".", 1)[0] if "." in n else n for n in names))


def _modules_shown(names: tuple[str, ...]) -> str:
    modules = _modules(names)
    shown = ", ".join(f"`{m}`" for m in modules[:MAX_NAMES])
    return shown + (f" and {len(modules) - MAX_NAMES} more" if len(modules) > MAX_NAMES else "")
