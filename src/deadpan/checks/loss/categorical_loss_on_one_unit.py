"""DP303 categorical-loss-on-one-unit."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import class_axis, loss_name
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.phrasebook import framework_of, say

#: Losses that take a softmax (or expect log-probabilities) over the class axis. ``cross_entropy_probs`` is
#: Keras' categorical cross-entropy of probabilities, which normalises each row to sum to 1 first.
CATEGORICAL_LOSSES = ("cross_entropy", "nll_loss", "cross_entropy_probs")


@register
class CategoricalLossOnOneUnit(Check):
    """A categorical loss over an output with a single unit.

    What it detects:
        ``CrossEntropyLoss`` / ``F.cross_entropy`` (or ``NLLLoss``) called on an output whose class axis has
        one unit, e.g. ``nn.Linear(h, 1)`` followed by ``CrossEntropyLoss`` for a binary problem.

    Why it makes the output constant:
        A softmax over one unit is always 1, so log-softmax is always 0: the loss is the same constant for
        every input and every weight, its gradient is zero, and nothing in the model learns. The output stays
        at whatever the initialisation gave.

    Fix:
        For a binary problem keep one output unit and use ``nn.BCEWithLogitsLoss()`` with float targets
        (``loss_fn(out, y.float().view(-1, 1))``); for C classes give the last layer C output units
        (``nn.Linear(h, C)``) and keep ``CrossEntropyLoss``.
    """

    code = "DP303"
    name = "categorical-loss-on-one-unit"
    category = "loss.mismatch"
    requires = ("loss",)

    def judge(self, ev: Evidence) -> Finding | None:
        loss = ev.loss
        assert loss is not None
        if loss.function not in CATEGORICAL_LOSSES or not loss.input_shape:
            return None
        # PyTorch's class axis is dim 1 for batched inputs ([N, C] or [N, C, d1, ...]), dim 0 unbatched;
        # Keras' is the last axis. (In Keras the single output is normalised to 1, so the loss is exactly 0.)
        if loss.input_shape[class_axis(ev, loss.input_shape)] != 1:
            return None
        n_classes = ev.task.n_classes if ev.task is not None else None
        if n_classes is None and loss.target_is_integer:
            n_classes = int(loss.target_max) + 1
        fw = framework_of(ev)
        cls = say("loss", fw, loss_fn=loss.function, loss=loss_name(ev))
        change = Change(
            "binary_loss_on_one_unit",
            what="loss",
            current=loss.function,
            params={
                "n_classes": n_classes,
                "loss_fn": loss.function,
                "loss": loss_name(ev),
                "from_logits": loss.from_logits,
            },
        )
        return self.finding(
            ev,
            message=f"`{cls}` is computed over an output with one unit (shape {list(loss.input_shape)}): "
            + say("one_unit_loss_effect", fw),
            change=change,
            evidence={
                "loss": loss.function,
                "input_shape": loss.input_shape,
                "class_axis_units": 1,
                "n_classes": n_classes,
            },
            strength=0.95,
        )
