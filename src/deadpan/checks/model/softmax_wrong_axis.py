"""DP212 softmax-wrong-axis."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import is_keras, loss_name
from deadpan.evidence import Evidence
from deadpan.findings import Finding

#: A probe batch of one sample cannot tell the batch axis from the class axis.
MIN_SAMPLES = 2


@register
class SoftmaxWrongAxis(Check):
    """A softmax taken over the batch dimension instead of the classes (``dim=0``).

    What it detects:
        The model's outputs sum to one down each column (over the samples of the batch) and not along each row
        (over the classes): ``nn.Softmax(dim=0)`` or ``F.softmax(x, dim=0)`` on (batch, classes) outputs.

    Why it makes the output constant:
        Each output then depends on the other samples in the batch rather than on the sample's own logits: the
        "probabilities" of a sample say how it compares with its batch-mates, the model cannot express a class
        for one input, and training pushes every sample towards the same share 1/batch, whatever the input.

    Fix:
        Use ``nn.Softmax(dim=1)`` (or ``dim=-1``), or drop the softmax entirely when the loss is
        ``nn.CrossEntropyLoss``, which applies log-softmax over the classes itself.
    """

    code = "DP212"
    name = "softmax-wrong-axis"
    category = "model.output"
    requires = ("probes.train_output",)

    def judge(self, ev: Evidence) -> Finding | None:
        out = ev.probes.train_output
        assert out is not None
        if out.n_samples < MIN_SAMPLES or not out.columns_sum_to_one or out.rows_sum_to_one:
            return None
        ce = ev.loss is not None and ev.loss.function == "cross_entropy"
        if is_keras(ev):
            fix = (
                'use `layers.Softmax(axis=-1)` (the default, not `axis=0`) or `activation="softmax"` on the '
                "last `Dense`, so each sample's row sums to one"
            )
            if ce:  # from_logits=True: the loss applies the softmax itself
                fix = f"drop the softmax: `{loss_name(ev)}` with `from_logits=True` applies it itself; " + fix
            dim = "axis 0"
        else:
            fix = _torch_fix(ce)
            dim = "dim=0"
        return self.finding(
            message="the outputs sum to one over the batch (each column) rather than over the classes (each "
            f"row): the softmax is taken over {dim}, so a sample's output depends on its batch-mates and "
            "cannot express its own class.",
            fix=fix,
            evidence={
                "columns_sum_to_one": True,
                "rows_sum_to_one": False,
                "n_samples": out.n_samples,
                "n_outputs": out.n_outputs,
            },
            strength=0.9,
        )


def _torch_fix(ce: bool) -> str:
    """The PyTorch fix: the right ``dim``, or no softmax in front of ``CrossEntropyLoss``."""
    fix = "use `nn.Softmax(dim=1)` (or `F.softmax(x, dim=-1)`) so each sample's row sums to one"
    if ce:
        fix = "drop the softmax: `nn.CrossEntropyLoss` applies log-softmax over the classes itself; " + fix
    else:
        fix += "; or drop it and use `nn.CrossEntropyLoss` on the logits"
    return fix
