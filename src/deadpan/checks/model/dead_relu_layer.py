"""DP220 dead-relu-layer."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import misbehaving, symptom_evidence
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding

#: Activations whose units can be exactly zero for every input. Leaky ReLU, ELU, SELU and GELU pass a
#: (small) signal for negative inputs, so their units cannot die outright.
DEAD_FAMILIES = ("relu", "relu6")
#: Share of a layer's units that output zero for every probe sample from which the layer is "dead": the
#: "dying ReLU" problem (Lu et al. 2019, "Dying ReLU and Initialization: Theory and Numerical Examples"),
#: where a whole layer switched off makes the network a constant function.
DEAD_FRACTION = 0.9
#: Strength at DEAD_FRACTION and with every unit dead.
STRENGTH_AT_THRESHOLD = 0.6
STRENGTH_ALL_DEAD = 0.85


@register
class DeadReluLayer(Check):
    """A ReLU layer whose units output zero for every input.

    What it detects:
        A ReLU/ReLU6 layer in which at least 90% of the units are zero for every sample of the probe batch,
        while the model's output is collapsed or scores poorly.

    Why it makes the output constant:
        A unit that is zero for every input passes no signal forward and gets no gradient back, so it never
        recovers. When (nearly) the whole layer is dead, the layers after it see the same (zero) vector for
        every input and the output is the same constant, usually the bias of the last layer.

    Fix:
        Lower the learning rate (large steps push the pre-activations negative for good), use He
        initialisation (``nn.init.kaiming_normal_(w, nonlinearity="relu")``) and zero or small positive
        biases, standardize the inputs, or use ``nn.LeakyReLU(0.01)`` / ``nn.ELU`` which cannot die.
    """

    code = "DP220"
    name = "dead-relu-layer"
    category = "model.dead_units"
    requires = ("probes.layers", "probes.train_output")

    def judge(self, ev: Evidence) -> Finding | None:
        if not misbehaving(ev):
            return None
        dead = [
            s
            for s in ev.probes.layers
            if (s.activation or "").lower() in DEAD_FAMILIES and s.dead_fraction >= DEAD_FRACTION
        ]
        if not dead:
            return None
        worst = max(dead, key=lambda s: s.dead_fraction)
        frac = (worst.dead_fraction - DEAD_FRACTION) / (1.0 - DEAD_FRACTION)
        strength = STRENGTH_AT_THRESHOLD + (STRENGTH_ALL_DEAD - STRENGTH_AT_THRESHOLD) * min(1.0, frac)
        units = f" of {worst.units}" if worst.units else ""
        return self.finding(
            ev,
            message=f"{worst.dead_fraction:.0%}{units} units of ReLU layer `{worst.name}` output zero for "
            "every input: no signal passes the layer and no gradient flows back to revive it, so everything "
            "after it sees the same vector and the output is constant.",
            change=Change(
                "revive_relu_units", what="dead units", current=worst.dead_fraction, where=worst.name
            ),
            evidence={
                "layer": worst.name,
                "dead_fraction": worst.dead_fraction,
                "units": worst.units,
                "dead_layers": [s.name for s in dead],
                **symptom_evidence(ev),
            },
            strength=strength,
        )
