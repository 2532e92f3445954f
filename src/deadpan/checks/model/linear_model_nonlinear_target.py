"""DP201 linear-model-nonlinear-target."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.model._structure import activation, weight_layer_indices
from deadpan.evidence import Evidence, LayerInfo
from deadpan.findings import Change, Finding
from deadpan.phrasebook import framework_of, say

#: Layers that are non-linear without an ``activation`` entry: pooling by max, recurrent and attention blocks
#: (gated / softmax internals), per-sample normalisation, and embeddings (a lookup is not linear in the ids).
NONLINEAR_KIND_PREFIXES = (
    "MaxPool",
    "AdaptiveMaxPool",
    "FractionalMaxPool",
    "LSTM",
    "GRU",
    "RNN",
    "SimpleRNN",
    "MultiheadAttention",
    "MultiHeadAttention",
    "Transformer",
    "LayerNorm",
    "GroupNorm",
    "InstanceNorm",
    "Embedding",
)
#: The learnability probe's non-linear model must beat its linear one by this much (normalized score,
#: chance = 0, perfect = 1) for the target to need a non-linearity: well beyond CV noise.
NONLINEAR_MARGIN = 0.15
#: The network counts as stuck at linear performance when it scores this much below the non-linear probe.
SHORTFALL = 0.1
#: Within this of the linear probe's score the network is doing exactly what a linear model can.
MATCHES_LINEAR = 0.05


def _nonlinear(layer: LayerInfo) -> bool:
    return activation(layer) is not None or layer.kind.startswith(NONLINEAR_KIND_PREFIXES)


@register
class LinearModelNonlinearTarget(Check):
    """A model with no non-linearity between its layers, on a target that needs one.

    What it detects:
        No non-linear activation (ReLU, tanh, ...) sits between the model's weight layers (only, at most, a
        softmax/sigmoid at the very end), while the learnability probe shows that a non-linear model predicts
        the target clearly better than a linear one (normalized gap > 0.15) and the network scores well below
        the non-linear probe (by > 0.1).

    Why it makes the output constant:
        A stack of linear layers is one linear map, however deep. When the classes or the target depend on the
        inputs non-linearly (XOR, rings, interactions) the best linear map explains little, and on symmetric
        problems nothing at all: its best answer is the class prior or the target mean, the same for every
        input.

    Fix:
        Put a non-linearity between the layers: ``nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64,
        C))`` (or apply ``F.relu`` to the hidden layer's output in ``forward``).
    """

    code = "DP201"
    name = "linear-model-nonlinear-target"
    category = "model.capacity"
    requires = ("model", "probes.learnability", "probes.train_output")

    def judge(self, ev: Evidence) -> Finding | None:
        assert (
            ev.model is not None and ev.probes.learnability is not None and ev.probes.train_output is not None
        )
        layers = ev.model.layers
        weights = weight_layer_indices(layers)
        if not weights:
            return None
        last = weights[-1]
        before_last = [layer for layer in layers[:last] if _nonlinear(layer)]
        recurrent_or_lookup = [
            layer
            for layer in layers
            if layer.kind.startswith(NONLINEAR_KIND_PREFIXES) and activation(layer) is None
        ]
        if before_last or recurrent_or_lookup:
            return None
        lp = ev.probes.learnability
        if lp.per_position:
            return None  # its two models are not a linear and a non-linear one
        linear, nonlinear = lp.normalized(lp.linear_score), lp.normalized(lp.nonlinear_score)
        net = ev.probes.train_output.normalized_score
        if nonlinear - linear <= NONLINEAR_MARGIN or net >= nonlinear - SHORTFALL:
            return None
        strength = 0.7 if net <= linear + MATCHES_LINEAR else 0.55
        width = layers[last].units or 1
        unseen = say("unseen_activations", framework_of(ev))
        return self.finding(
            ev,
            message=f"the model has {len(weights)} weight layer(s) and no non-linear activation between "
            f"them, so it is a single linear map; a non-linear model predicts this target far better "
            f"(normalized {nonlinear:.2f} vs {linear:.2f} for a linear one) and the network reaches only "
            f"{net:.2f}. {unseen}",
            change=Change(
                "add_nonlinearity", what="hidden activation", proposed="relu", params={"width": width}
            ),
            evidence={
                "weight_layers": [layers[i].name for i in weights],
                "nonlinear_layers": 0,
                "linear_probe_normalized": linear,
                "nonlinear_probe_normalized": nonlinear,
                "network_normalized": net,
                "metric": lp.metric,
            },
            strength=strength,
        )
