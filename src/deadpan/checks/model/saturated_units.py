"""DP221 saturated-units."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import SATURATING_FAMILIES, misbehaving, symptom_evidence
from deadpan.evidence import Evidence, LayerSignal
from deadpan.findings import Change, Finding

#: Share of a hidden layer's units pinned at the activation's limits for nearly every sample from which the
#: layer passes almost no gradient (Glorot & Bengio 2010, "Understanding the difficulty of training deep
#: feedforward neural networks": saturated sigmoid layers stall training).
SATURATED_FRACTION = 0.9
#: Layers after the last weight layer are the output head; its saturation is a different symptom.
PASSTHROUGH_KINDS = ("Dropout", "Flatten", "Identity", "Unflatten")
#: Strength at SATURATED_FRACTION and with every unit saturated.
STRENGTH_AT_THRESHOLD = 0.6
STRENGTH_ALL = 0.85


def _hidden(signals: tuple[LayerSignal, ...]) -> tuple[LayerSignal, ...]:
    """The signals before the output layer: everything before the last layer without an activation (the
    last weight layer in PyTorch), or all but the last when every layer has one (Keras
    ``Dense(activation=)``)."""
    plain = [
        i
        for i, s in enumerate(signals)
        if (s.activation is None or s.activation.lower() in ("linear", "identity"))
        and not s.kind.startswith(PASSTHROUGH_KINDS)
    ]
    end = plain[-1] if plain else len(signals) - 1
    return signals[:end]


@register
class SaturatedUnits(Check):
    """A hidden sigmoid/tanh layer whose units sit at their limits for every input.

    What it detects:
        A hidden layer with a sigmoid, tanh (or hard/soft variant) activation in which at least 90% of the
        units are within 1% of the activation's limits for nearly every probe sample, while the model's output
        is collapsed or scores poorly. The output layer is left out (a saturated head is a different symptom).

    Why it makes the output constant:
        A saturated unit outputs its limit (0/1 or -1/1) whatever the input, and its derivative there is
        nearly zero. A layer of them passes the same vector forward for every input and almost no gradient
        backward, so training stalls with a constant output.

    Fix:
        Standardize the inputs, initialise with Glorot/Xavier (``nn.init.xavier_uniform_``) rather than large
        weights, add ``nn.BatchNorm1d`` before the activation, or use ``nn.ReLU`` in hidden layers.
    """

    code = "DP221"
    name = "saturated-units"
    category = "model.saturation"
    requires = ("probes.layers", "probes.train_output")

    def judge(self, ev: Evidence) -> Finding | None:
        if not misbehaving(ev):
            return None
        saturated = [
            s
            for s in _hidden(ev.probes.layers)
            if (s.activation or "").lower() in SATURATING_FAMILIES
            and s.saturated_fraction >= SATURATED_FRACTION
        ]
        if not saturated:
            return None
        worst = max(saturated, key=lambda s: s.saturated_fraction)
        frac = (worst.saturated_fraction - SATURATED_FRACTION) / (1.0 - SATURATED_FRACTION)
        strength = STRENGTH_AT_THRESHOLD + (STRENGTH_ALL - STRENGTH_AT_THRESHOLD) * min(1.0, frac)
        units = f" of {worst.units}" if worst.units else ""
        return self.finding(
            ev,
            message=f"{worst.saturated_fraction:.0%}{units} units of {worst.activation} layer `{worst.name}` "
            "sit at the activation's limits for nearly every input: they pass the same value forward and "
            "almost no gradient back, so training stalls with a constant output.",
            change=Change(
                "unsaturate_units", what="hidden activation", current=worst.activation, where=worst.name
            ),
            evidence={
                "layer": worst.name,
                "activation": worst.activation,
                "saturated_fraction": worst.saturated_fraction,
                "units": worst.units,
                "saturated_layers": [s.name for s in saturated],
                **symptom_evidence(ev),
            },
            strength=strength,
        )
