"""DP213 relu-on-logits."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.model._structure import activation, weight_layer_indices
from deadpan.checks.symptoms import misbehaving, symptom_evidence
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: Losses that take raw logits and squash them themselves (softmax / sigmoid inside the loss).
LOGIT_LOSSES = ("cross_entropy", "binary_cross_entropy_with_logits")
#: Activations whose output is never negative.
NONNEGATIVE = ("relu", "relu6", "softplus")
#: Cross-entropy over several classes: a logit floored at 0 only limits how far a class can be pushed down.
STRENGTH_MULTICLASS = 0.7
#: One logit per label into a sigmoid: sigmoid(relu(z)) >= 0.5, the negative answer is out of reach.
STRENGTH_SIGMOID = 0.85


@register
class ReluOnLogits(Check):
    """A non-negative activation (ReLU) after the last layer, feeding a loss that expects raw logits.

    What it detects:
        ``CrossEntropyLoss`` or ``BCEWithLogitsLoss`` (Keras: a cross-entropy with ``from_logits=True``)
        whose inputs are all non-negative, while the model ends in a ReLU-like activation after its last
        weight layer, and the model misbehaves.

    Why it makes the output constant:
        Logits are meant to range over the whole real line. Floored at zero, a class can only be pushed down
        to logit 0, and every unit whose pre-activation turns negative for an input gives no gradient: with a
        sigmoid loss the probability never drops below 0.5, with a softmax many classes tie at 0 and the
        model falls back on the few whose logit stays positive, often one for every input.

    Fix:
        Remove the activation from the output layer (``nn.Linear`` last, no ``nn.ReLU`` after it; Keras
        ``Dense(n)`` with no ``activation``): the loss applies softmax or sigmoid itself.
    """

    code = "DP213"
    name = "relu-on-logits"
    category = "model.output"
    requires = ("loss", "model")

    def judge(self, ev: Evidence) -> Finding | None:
        loss, model = ev.loss, ev.model
        assert loss is not None and model is not None
        if loss.function not in LOGIT_LOSSES or loss.input_min < 0:
            return None
        weights = weight_layer_indices(model.layers)
        if not weights:
            return None
        tail = [layer for layer in model.layers[weights[-1] :] if activation(layer) is not None]
        if not tail or activation(tail[-1]) not in NONNEGATIVE:
            return None
        if not misbehaving(ev):
            return None
        head = tail[-1]
        sigmoid = loss.function == "binary_cross_entropy_with_logits"
        consequence = (
            "sigmoid(logit) never drops below 0.5, so the negative answer is out of reach"
            if sigmoid
            else "a class can be pushed down only to logit 0 and units floored at 0 pass no gradient"
        )
        return self.finding(
            ev,
            message=f"the model ends in `{head.name}` ({head.activation}) and the loss, which expects raw "
            f"logits, only ever sees values >= 0 (min {loss.input_min:.3g}): {consequence}.",
            change=Change(
                "remove_output_activation",
                what="output activation",
                current=head.activation,
                where=head.name,
                params={"sigmoid": sigmoid},
            ),
            evidence={
                "loss": loss.function,
                "activation_layer": head.name,
                "activation": head.activation,
                "input_min": loss.input_min,
                "input_max": loss.input_max,
                **symptom_evidence(ev),
            },
            strength=STRENGTH_SIGMOID if sigmoid else STRENGTH_MULTICLASS,
            severity=Severity.ERROR,
        )
