"""DP210 softmax-over-one-unit."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.model._structure import activation, is_softmax, weight_layer_indices
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.phrasebook import framework_of, say

#: Strength when the softmax is seen in the model's layers (or the outputs are all one value), and when only
#: the outputs' rows summing to one show it (a sigmoid saturated at 1 looks the same).
STRENGTH_SEEN = 0.95
STRENGTH_OUTPUTS_ONLY = 0.8


@register
class SoftmaxOverOneUnit(Check):
    """A softmax (or log-softmax) over a single output unit: the output is always 1 (or 0).

    What it detects:
        The model has one output unit and ends in ``nn.Softmax``/``nn.LogSoftmax`` (or a ``Dense(1,
        activation="softmax")``), or its outputs are rows of probabilities that sum to one over that single
        unit.

    Why it makes the output constant:
        Softmax normalises over the units of a row: with one unit, exp(z) / exp(z) = 1 for every input (log-
        softmax gives 0). The output is the same for every input and no gradient reaches the weights through
        it, so nothing can be learned.

    Fix:
        For a binary target use one unit with ``nn.Sigmoid`` and ``nn.BCELoss``, or better no activation and
        ``nn.BCEWithLogitsLoss``; or use two units (``nn.Linear(d, 2)``) with ``nn.CrossEntropyLoss`` and no
        softmax.
    """

    code = "DP210"
    name = "softmax-over-one-unit"
    category = "model.output"

    def judge(self, ev: Evidence) -> Finding | None:
        layers = ev.model.layers if ev.model is not None else ()
        weights = weight_layer_indices(layers)
        tail = layers[weights[-1] :] if weights else ()
        if ev.task is not None:
            n_out = ev.task.n_outputs
        elif ev.loss is not None and len(ev.loss.input_shape) >= 2:
            n_out = ev.loss.input_shape[-1]
        elif weights and layers[weights[-1]].units is not None:
            n_out = int(layers[weights[-1]].units or 0)
        else:
            return None
        if n_out != 1:
            return None
        softmax_layer = next((layer for layer in tail if is_softmax(layer)), None)
        out = ev.probes.train_output
        sigmoid_tail = any(activation(layer) in ("sigmoid", "hardsigmoid") for layer in tail)
        from_outputs = out is not None and out.rows_sum_to_one and not sigmoid_tail
        if softmax_layer is None and not from_outputs:
            return None
        constant = out is not None and out.n_samples > 1 and out.distinct_predictions <= 1
        strength = STRENGTH_SEEN if softmax_layer is not None or constant else STRENGTH_OUTPUTS_ONLY
        log = softmax_layer is not None and "log" in (softmax_layer.activation or softmax_layer.kind).lower()
        where = "a softmax"
        if softmax_layer is not None:
            where = say(
                "activation_place",
                framework_of(ev),
                name=softmax_layer.name,
                kind=softmax_layer.kind,
                activation=softmax_layer.activation,
            )
        n_classes = ev.task.n_classes if ev.task is not None and (ev.task.n_classes or 0) >= 2 else None
        change = Change(
            "binary_head_for_one_unit",
            what="output activation",
            current="softmax",
            where=softmax_layer.name if softmax_layer is not None else "",
            params={"n_classes": n_classes},
        )
        return self.finding(
            ev,
            message=f"the model ends in {where} over a single output unit: softmax normalises over the row, "
            f"so the output is exactly {0 if log else 1} for every input and no gradient reaches the "
            "weights.",
            change=change,
            evidence={
                "n_outputs": n_out,
                "softmax_layer": softmax_layer.name if softmax_layer is not None else None,
                "rows_sum_to_one": out.rows_sum_to_one if out is not None else None,
                "distinct_predictions": out.distinct_predictions if out is not None else None,
            },
            strength=strength,
        )
