"""DP302 broadcast-target-shape."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import loss_name
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.phrasebook import framework_of, say

#: Elementwise losses, which broadcast input and target instead of refusing different shapes.
ELEMENTWISE_LOSSES = (
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
)


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


@register
class BroadcastTargetShape(Check):
    """An elementwise loss whose output and target shapes broadcast to a bigger tensor.

    What it detects:
        ``MSELoss``, ``L1Loss``, ``SmoothL1Loss``, ``HuberLoss`` or a BCE loss called with an output and a
        target of different shapes that broadcast, e.g. an output of shape ``[n, 1]`` against a target of
        shape ``[n]``, which broadcast to ``[n, n]``.

    Why it makes the output constant:
        After broadcasting every output is compared with every target in the batch, not with its own. The
        loss is minimised by predicting the mean of all the batch's targets for every input, so the model
        learns exactly that: the same value whatever the input.

    Fix:
        Give the output and the target the same shape: ``loss_fn(out.squeeze(-1), y)`` or
        ``loss_fn(out, y.view(-1, 1))``.
    """

    code = "DP302"
    name = "broadcast-target-shape"
    category = "loss.mismatch"
    requires = ("loss",)

    def judge(self, ev: Evidence) -> Finding | None:
        loss = ev.loss
        assert loss is not None
        if loss.function not in ELEMENTWISE_LOSSES or loss.broadcast_shape is None:
            return None
        if tuple(loss.broadcast_shape) == tuple(loss.input_shape):
            return None
        cls = say("loss", framework_of(ev), loss_fn=loss.function, loss=loss_name(ev))
        change = Change(
            "reshape_to_match",
            what="target shape",
            current=list(loss.target_shape),
            proposed=list(loss.input_shape),
            params={
                "input_shape": list(loss.input_shape),
                "target_shape": list(loss.target_shape),
                "loss_fn": loss.function,
                "loss": loss_name(ev),
            },
        )
        return self.finding(
            ev,
            message=f"`{cls}` gets an output of shape {_shape(loss.input_shape)} and a target of shape "
            f"{_shape(loss.target_shape)}, which broadcast to {_shape(loss.broadcast_shape)}: every output "
            "is compared with every target, so each is pulled towards the mean of all the targets.",
            change=change,
            evidence={
                "loss": loss.function,
                "input_shape": loss.input_shape,
                "target_shape": loss.target_shape,
                "broadcast_shape": loss.broadcast_shape,
            },
            strength=0.95,
        )
