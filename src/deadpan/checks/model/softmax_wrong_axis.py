"""DP212 softmax-wrong-axis."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import loss_name
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.phrasebook import framework_of, say

#: A probe batch of one sample cannot tell the batch axis from the class axis.
MIN_SAMPLES = 2


@register
class SoftmaxWrongAxis(Check):
    """A softmax taken over the batch dimension instead of the classes (``dim=0``).

    What it detects:
        The model's outputs sum to one down each column (over the samples of the batch) and not along each row
        (over the classes): ``nn.Softmax(dim=0)`` or ``F.softmax(x, dim=0)`` on (batch, classes) outputs. Also
        in log space: the input of ``NLLLoss`` normalised down each column (``logsumexp`` over the batch 0)
        and not along each row, from ``nn.LogSoftmax(dim=0)`` / ``F.log_softmax(x, dim=0)``.

    Why it makes the output constant:
        Each output then depends on the other samples in the batch rather than on the sample's own logits: the
        "probabilities" of a sample say how it compares with its batch-mates, the model cannot express a class
        for one input, and training pushes every sample towards the same share 1/batch, whatever the input.

    Fix:
        Use ``nn.Softmax(dim=1)`` (or ``dim=-1``), or drop the softmax entirely when the loss is
        ``nn.CrossEntropyLoss``, which applies log-softmax over the classes itself; ``nn.LogSoftmax(dim=1)``
        in front of ``nn.NLLLoss``. Keras: ``layers.Softmax(axis=-1)``.
    """

    code = "DP212"
    name = "softmax-wrong-axis"
    category = "model.output"
    requires = ("probes.train_output",)

    def judge(self, ev: Evidence) -> Finding | None:
        out = ev.probes.train_output
        assert out is not None
        # Log-probabilities normalised over the batch (a log_softmax(dim=0) into nll_loss), measured on the
        # loss input; None (not measured) or normalised over the classes too (a square batch) is not that.
        loss = ev.loss
        log_space = (
            loss is not None
            and loss.input_columns_are_log_probabilities is True
            and loss.input_rows_are_log_probabilities is False
            and len(loss.input_shape) >= 2
            and loss.input_shape[0] >= MIN_SAMPLES
        )
        in_prob_space = out.n_samples >= MIN_SAMPLES and out.columns_sum_to_one and not out.rows_sum_to_one
        if not (in_prob_space or log_space):
            return None
        ce = ev.loss is not None and ev.loss.function == "cross_entropy"
        change = Change(
            "softmax_over_classes",
            what="softmax axis",
            current=0,
            proposed=-1,
            params={"cross_entropy": ce, "log_space": log_space and not in_prob_space, "loss": loss_name(ev)},
        )
        dim = say("batch_axis", framework_of(ev))
        if in_prob_space:
            what = (
                "the outputs sum to one over the batch (each column) rather than over the classes (each row)"
            )
            soft = "softmax"
        else:
            what = (
                "the log-probabilities the loss receives are normalised over the batch (each column's "
                "logsumexp is 0) rather than over the classes (each row)"
            )
            soft = "log-softmax"
        return self.finding(
            ev,
            message=f"{what}: the {soft} is taken over {dim}, so a sample's output depends on its "
            "batch-mates and cannot express its own class.",
            change=change,
            evidence={
                "columns_sum_to_one": out.columns_sum_to_one,
                "rows_sum_to_one": out.rows_sum_to_one,
                "loss_input_columns_are_log_probabilities": loss.input_columns_are_log_probabilities
                if loss is not None
                else None,
                "n_samples": out.n_samples,
                "n_outputs": out.n_outputs,
            },
            strength=0.9,
        )
