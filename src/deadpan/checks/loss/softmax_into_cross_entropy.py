"""DP301 softmax-into-cross-entropy."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import loss_name
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.phrasebook import framework_of, say

#: Losses that apply log-softmax (or expect log-probabilities) themselves.
LOGIT_LOSSES = ("cross_entropy", "nll_loss")


@register
class SoftmaxIntoCrossEntropy(Check):
    """Probabilities fed to a loss that expects logits (a double softmax).

    What it detects:
        ``CrossEntropyLoss`` / ``F.cross_entropy`` (or ``NLLLoss``) receiving inputs whose every row is
        non-negative and sums to 1: the model already ends in a softmax.

    Why it makes the output constant:
        Cross-entropy applies log-softmax itself. Feeding it probabilities squashes the logits into [0, 1], so
        the loss can only move between ln C - 1 + ... and ln C: gradients are tiny and nearly equal for every
        class, and the model settles on the class prior, often a single class for every input.

    Fix:
        Remove the final ``nn.Softmax`` / ``F.softmax`` from the model and pass raw logits to the loss; apply
        softmax only when you need probabilities at inference time.
    """

    code = "DP301"
    name = "softmax-into-cross-entropy"
    category = "loss.mismatch"
    requires = ("loss",)

    def judge(self, ev: Evidence) -> Finding | None:
        loss = ev.loss
        assert loss is not None
        if loss.function not in LOGIT_LOSSES or not loss.input_rows_are_probabilities:
            return None
        if len(loss.input_shape) < 2 or loss.input_shape[-1] < 2:
            return None
        expects = "logits" if loss.function == "cross_entropy" else "log-probabilities"
        # In Keras: a softmax output with from_logits=True.
        name = say("logits_loss", framework_of(ev), loss_fn=loss.function, loss=loss_name(ev))
        change = Change(
            "drop_output_softmax",
            what="output activation",
            current="softmax",
            params={"loss_fn": loss.function, "loss": loss_name(ev)},
        )
        return self.finding(
            ev,
            message=f"{name} receives probabilities (every row sums to 1, values in "
            f"[{loss.input_min:.3g}, {loss.input_max:.3g}]) but expects {expects}: the softmax is applied "
            "twice and the gradients nearly vanish.",
            change=change,
            evidence={
                "loss": loss.function,
                "input_shape": loss.input_shape,
                "input_min": loss.input_min,
                "input_max": loss.input_max,
                "rows_sum_to_one": True,
            },
            strength=0.95,
        )
