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
        findings.)

    Why it makes the output constant:
        What those layers read never reaches the output: an encoder whose state the decoder does not receive,
        a branch whose result is computed and dropped, a value cut from the graph by ``.detach()``,
        ``torch.no_grad()``, ``.item()``, ``argmax`` or rounding. When they are the layers that take the input
        (or part of it), the output cannot depend on that input, and the model learns the best answer without
        it: the average over what it cannot see, the same for every input.

    Fix:
        Pass their result on to the output in ``forward`` (the encoder's state to the decoder, the branch into
        the sum); remove the operation that cuts the graph; or delete the layers if they are not needed.
    """

    code = "DP223"
    name = "gradient-never-reaches"
    category = "model.capacity"
    requires = ("training", "model")

    def judge(self, ev: Evidence) -> Finding | None:
        assert ev.training is not None and ev.model is not None
        names = list(ev.training.unreached)
        trainable = ev.model.n_trainable
        if not names or trainable <= 0 or not misbehaving(ev):
            return None
        share = min(1.0, ev.training.unreached_elements / trainable)
        if share >= 1.0:
            return None  # no parameter had a gradient: the loop checks' finding (a detached loss)
        modules = list(dict.fromkeys(n.rsplit(".", 1)[0] if "." in n else n for n in names))
        shown = ", ".join(f"`{m}`" for m in modules[:MAX_NAMES]) + (
            f" and {len(modules) - MAX_NAMES} more" if len(modules) > MAX_NAMES else ""
        )
        evidence = {"unreached": names, "unreached_elements": ev.training.unreached_elements, "share": share}
        evidence.update(symptom_evidence(ev))
        return self.finding(
            ev,
            message=f"the loss never reaches {shown} ({ev.training.unreached_elements} parameters, "
            f"{share:.0%} of the trainable ones): no gradient at any sampled step, so the output does not "
            "depend on what they compute, and whatever they read cannot shape the answer.",
            change=Change(
                "reconnect_parameters",
                what="forward",
                params={"names": modules[:MAX_NAMES], "more": max(0, len(modules) - MAX_NAMES)},
            ),
            evidence=evidence,
            strength=min(STRENGTH_MAX, STRENGTH_BASE + share),
            severity=Severity.ERROR if share >= ERROR_SHARE else Severity.WARNING,
        )
