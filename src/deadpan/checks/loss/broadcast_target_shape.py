"""DP302 broadcast-target-shape."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import is_keras, loss_name
from deadpan.evidence import Evidence, LossCall
from deadpan.findings import Finding

#: Elementwise losses, which broadcast input and target instead of refusing different shapes, and the
#: ``torch.nn`` class a user most likely wrote for each.
ELEMENTWISE_LOSSES: dict[str, str] = {
    "mse_loss": "MSELoss",
    "l1_loss": "L1Loss",
    "smooth_l1_loss": "SmoothL1Loss",
    "huber_loss": "HuberLoss",
    "binary_cross_entropy": "BCELoss",
    "binary_cross_entropy_with_logits": "BCEWithLogitsLoss",
}


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _reshape_fix(loss: LossCall, cls: str) -> str:
    """The one-line change that gives input and target the same shape."""
    inp, tgt = loss.input_shape, loss.target_shape
    if len(inp) == len(tgt) + 1 and inp[-1] == 1 and inp[:-1] == tgt:
        return (
            "squeeze the output's last axis, `loss_fn(out.squeeze(-1), y)`, or give the target one, "
            f"`y.view(-1, 1)`: the output is {_shape(inp)} and the target {_shape(tgt)}"
        )
    if len(tgt) == len(inp) + 1 and tgt[-1] == 1 and tgt[:-1] == inp:
        return (
            f"squeeze the target's last axis, `loss_fn(out, y.squeeze(-1))`: the output is {_shape(inp)} "
            f"and the target {_shape(tgt)}"
        )
    return (
        f"give the output and the target the same shape before `{cls}`, e.g. `loss_fn(out, y.view_as(out))` "
        f"once the model has one output unit per target value: the output is {_shape(inp)} and the target "
        f"{_shape(tgt)}"
    )


def _keras_reshape_fix(loss: LossCall) -> str:
    """The Keras change that gives the model output and the targets the same shape."""
    inp, tgt = loss.input_shape, loss.target_shape
    shapes = f"the output is {_shape(inp)} and the targets {_shape(tgt)}"
    if len(inp) == len(tgt) and inp[:-1] == tgt[:-1] and inp[-1] == 1 and tgt[-1] > 1:
        return (
            f"give the last layer one unit per target column, `layers.Dense({tgt[-1]})`, or pass one target "
            f"value per sample, `y.reshape(-1, 1)`: {shapes}"
        )
    return (
        "give the model output and the targets the same shape: reshape the targets (`y.reshape(-1, 1)` for "
        "one value per sample) or give the last layer one unit per target value (`layers.Dense(k)`): "
        + shapes
    )


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
        cls = ELEMENTWISE_LOSSES.get(loss.function)
        if cls is None or loss.broadcast_shape is None:
            return None
        if tuple(loss.broadcast_shape) == tuple(loss.input_shape):
            return None
        keras = is_keras(ev)
        if keras:
            cls = loss_name(ev)
        return self.finding(
            message=f"`{cls}` gets an output of shape {_shape(loss.input_shape)} and a target of shape "
            f"{_shape(loss.target_shape)}, which broadcast to {_shape(loss.broadcast_shape)}: every output "
            "is compared with every target, so each is pulled towards the mean of all the targets.",
            fix=_keras_reshape_fix(loss) if keras else _reshape_fix(loss, cls),
            evidence={
                "loss": loss.function,
                "input_shape": loss.input_shape,
                "target_shape": loss.target_shape,
                "broadcast_shape": loss.broadcast_shape,
            },
            strength=0.95,
        )
