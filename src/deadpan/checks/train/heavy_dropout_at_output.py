"""DP531 heavy-dropout-at-output."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.model._structure import is_dense, weight_layer_indices
from deadpan.checks.symptoms import misbehaving, symptom_evidence
from deadpan.evidence import Evidence, LayerInfo
from deadpan.findings import Change, Finding, Severity

#: Drop rate from which dropout right before the output layer is heavy: at 0.5 the output layer loses half
#: its inputs, a different half at each step. 0.5 is the classic rate for wide hidden layers (Srivastava et
#: al. 2014), but next to the output it leaves the last layer a noisy half of a (often narrow) representation;
#: 0.1 to 0.3 is the usual rate there.
HEAVY_RATE = 0.5
#: Drop rate from which most of the output layer's inputs are zero at every step: the strong case.
EXTREME_RATE = 0.8
#: The rate to suggest instead.
SUGGESTED_RATE = 0.2
#: Parameter-free layers that only reshape their input: dropout before them still zeroes the output
#: layer's inputs one for one.
SHAPE_KINDS = ("Flatten", "Reshape", "Unflatten", "Identity", "Permute")
#: Strength with HEAVY_RATE <= rate < EXTREME_RATE (dropout 0.5 at the output is common and often trains
#: fine, so it is a likely contributor rather than a sure cause) and from EXTREME_RATE on.
STRENGTH = 0.5
STRENGTH_EXTREME = 0.7


def _transparent(layer: LayerInfo) -> bool:
    """An activation-only or shape-only entry: dropout before it still zeroes the next layer's inputs."""
    if layer.units is not None or layer.dropout is not None or layer.n_params:
        return False
    return layer.activation is not None or layer.kind == "Activation" or layer.kind in SHAPE_KINDS


def _dropout_before(layers: tuple[LayerInfo, ...], index: int) -> list[LayerInfo]:
    """The dropout layers feeding ``layers[index]`` directly (through activation or shape-only entries)."""
    found: list[LayerInfo] = []
    for layer in reversed(layers[:index]):
        if layer.dropout is not None:
            found.append(layer)
        elif not _transparent(layer):
            break
    return found


def _dense_fan_in(layers: tuple[LayerInfo, ...], weights: list[int]) -> int | None:
    """The output layer's fan-in when a dense layer feeds a dense output layer directly, else None (a
    convolution's channels are not the output layer's inputs once flattened)."""
    if len(weights) < 2 or not (is_dense(layers[weights[-2]]) and is_dense(layers[weights[-1]])):
        return None
    if any(layer.kind in SHAPE_KINDS for layer in layers[weights[-2] + 1 : weights[-1]]):
        return None
    return layers[weights[-2]].units


@register
class HeavyDropoutAtOutput(Check):
    """Heavy dropout (rate >= 0.5) directly before the output layer of a model whose output collapsed.

    What it detects:
        A dropout layer with a drop rate of 0.5 or more (``nn.Dropout(p=0.5)``, ``layers.Dropout(0.5)``)
        right before the last weight layer (only activations or a flatten between them), while the output is
        (nearly) constant or scores poorly.

    Why it makes the output constant:
        At each training step the output layer sees most of its inputs zeroed, a different set each time.
        Under that much noise its best answer is the one that depends least on the inputs: the class prior or
        the target mean, which it can hold in its bias. It learns the bias, its weights stay small, and the
        output drifts to one answer for every input (also at evaluation, when dropout is off).

    Fix:
        Lower the rate before the output to 0.2 or less (``nn.Dropout(p=0.2)`` / ``layers.Dropout(0.2)``) or
        remove it, and regularise earlier layers instead if the model overfits.
    """

    code = "DP531"
    name = "heavy-dropout-at-output"
    category = "train.over_regularized"
    requires = ("model",)

    def judge(self, ev: Evidence) -> Finding | None:
        model = ev.model
        assert model is not None
        weights = weight_layer_indices(model.layers)
        if not weights:
            return None
        out_index = weights[-1]
        drops = _dropout_before(model.layers, out_index)
        if not drops:
            return None
        keep = 1.0
        for layer in drops:
            keep *= 1.0 - min(max(float(layer.dropout or 0.0), 0.0), 1.0)
        rate = 1.0 - keep  # stacked dropout layers drop independently
        if rate < HEAVY_RATE or not misbehaving(ev):
            return None

        extreme = rate >= EXTREME_RATE
        output = model.layers[out_index]
        feeding = _dense_fan_in(model.layers, weights)
        kept = f" (about {keep * feeding:.3g} of its {feeding} inputs)" if feeding else ""
        names = ", ".join(f"`{layer.name}`" for layer in reversed(drops))
        change = Change(
            "lower_dropout",
            what="dropout",
            current=rate,
            proposed=SUGGESTED_RATE,
            where=", ".join(layer.name for layer in reversed(drops)),
        )
        return self.finding(
            ev,
            message=f"dropout {names} with rate {rate:.2g} sits directly before the output layer "
            f"`{output.name}`, which therefore sees only {100 * keep:.0f}% of its inputs{kept} at each "
            "training step: under that noise its best answer is the class prior or target mean held in its "
            "bias, and the output is nearly the same for every input.",
            change=change,
            evidence={
                "dropout_layers": [layer.name for layer in reversed(drops)],
                "dropout_rate": rate,
                "output_layer": output.name,
                "output_layer_fan_in": feeding,
                **symptom_evidence(ev),
            },
            strength=STRENGTH_EXTREME if extreme else STRENGTH,
            severity=Severity.ERROR if extreme else Severity.WARNING,
        )
