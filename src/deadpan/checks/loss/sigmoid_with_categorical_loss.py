"""DP308 sigmoid-with-categorical-loss."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.model._structure import activation, weight_layer_indices
from deadpan.checks.symptoms import loss_name, misbehaving, symptom_evidence
from deadpan.evidence import Evidence, LayerInfo
from deadpan.findings import Change, Finding, Severity

#: Categorical cross-entropy of probability rows (Keras' ``categorical_crossentropy`` /
#: ``sparse_categorical_crossentropy`` with ``from_logits=False``).
CATEGORICAL_PROBS_LOSS = "cross_entropy_probs"
#: Activation families that squash each unit into [0, 1] on its own, with no normalisation over the row.
SIGMOID_NAMES = ("sigmoid", "hard_sigmoid", "hardsigmoid")
#: Slack around [0, 1] for float rounding of the sigmoid's output.
RANGE_TOLERANCE = 1e-5
#: A warning-level cause: the loss still gets a (distorted) signal and such models sometimes train, so this
#: explains a collapse less surely than a loss that cannot learn at all (DP303, DP307).
STRENGTH = 0.5


def _output_sigmoid(layers: tuple[LayerInfo, ...]) -> LayerInfo | None:
    """The model's last activation when it is a sigmoid applied after the last weight layer, else None."""
    weights = weight_layer_indices(layers)
    if not weights:
        return None
    acts = [layer for layer in layers[weights[-1] :] if activation(layer) is not None]
    if not acts:
        return None
    last = acts[-1]
    return last if activation(last) in SIGMOID_NAMES else None


@register
class SigmoidWithCategoricalLoss(Check):
    """A categorical cross-entropy of probabilities over sigmoid outputs (rows that are not distributions).

    What it detects:
        Categorical cross-entropy of probabilities (Keras ``categorical_crossentropy`` /
        ``sparse_categorical_crossentropy`` with ``from_logits=False``) over C > 1 output units whose final
        activation is a sigmoid (``Dense(C, activation="sigmoid")``), while the model's output is collapsed or
        scores poorly.

    Why it makes the output constant:
        The sigmoid squashes each unit on its own, so a row is not a distribution; Keras divides it by its sum
        before the log. The loss then only sees the ratios between the units, never their common level, and
        each unit's gradient passes through the sigmoid's slope s(1 - s). Rows drift to all units high (or all
        low) together, where the normalised row is nearly uniform and the sigmoids are saturated: the
        gradients are weak and tangled, the units stop separating, and the model gives (nearly) the same
        answer for every input.

    Fix:
        For one class per example use ``activation="softmax"`` on the output layer (or no activation and
        ``from_logits=True`` in the loss); for multi-label targets keep the sigmoid and use
        ``loss="binary_crossentropy"``. In PyTorch: drop the sigmoid and use ``nn.CrossEntropyLoss`` on the
        logits, or ``nn.BCEWithLogitsLoss`` for multi-label.
    """

    code = "DP308"
    name = "sigmoid-with-categorical-loss"
    category = "loss.mismatch"
    requires = ("loss", "model")

    def judge(self, ev: Evidence) -> Finding | None:
        loss, model = ev.loss, ev.model
        assert loss is not None and model is not None
        if loss.function != CATEGORICAL_PROBS_LOSS or len(loss.input_shape) < 2:
            return None
        n_units = loss.input_shape[-1]  # Keras' class axis is the last one
        if n_units < 2 or loss.input_rows_are_probabilities:
            return None
        if loss.input_min < -RANGE_TOLERANCE or loss.input_max > 1.0 + RANGE_TOLERANCE:
            return None  # not a sigmoid's output (a linear output is DP307's finding)
        sigmoid = _output_sigmoid(model.layers)
        if sigmoid is None or not misbehaving(ev):
            return None

        multilabel = ev.task is not None and ev.task.kind == "multilabel"
        change = Change(
            "softmax_for_classes",
            what="output activation",
            current=sigmoid.activation,
            where=sigmoid.name,
            params={"multilabel": multilabel, "units": n_units, "loss": loss_name(ev)},
        )
        return self.finding(
            ev,
            message=f"`{loss_name(ev)}` takes each row as a probability distribution, but the {n_units} "
            f"output units end in a sigmoid (`{sigmoid.name}`), which squashes each unit on its own: the "
            f"rows (values in [{loss.input_min:.3g}, {loss.input_max:.3g}]) do not sum to 1, the loss only "
            "sees their ratios, and the saturating units get weak, tangled gradients.",
            change=change,
            evidence={
                "loss": loss.function,
                "loss_name": loss.name or loss.function,
                "output_units": n_units,
                "output_activation": sigmoid.activation,
                "output_activation_layer": sigmoid.name,
                "input_min": loss.input_min,
                "input_max": loss.input_max,
                "rows_sum_to_one": loss.input_rows_are_probabilities,
                **symptom_evidence(ev),
            },
            strength=STRENGTH,
            severity=Severity.WARNING,
        )
