"""Replace saturating hidden activations by ReLU."""

from __future__ import annotations

from torch import nn

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.catalog.reinitialize import reinitialize
from deadpan.fixes.keras_trial import KerasTrialSetup, activation_of, reinitialized, weight_layers
from deadpan.fixes.modules import split_at_last_weight
from deadpan.phrasebook import framework_of, render

SATURATING = (nn.Sigmoid, nn.Tanh, nn.Hardsigmoid, nn.Hardtanh, nn.Softsign)


@register
class ReluActivations(Fix):
    """Swap every sigmoid/tanh module between the input and the last weight layer for ``nn.ReLU`` and
    re-initialise (He) on a copy. A ReLU's slope is 1 wherever it is active, so the gradient reaches the
    first layers at full strength, while a sigmoid's is at most 1/4 and nearly 0 when saturated."""

    name = "relu-activations"
    title = "ReLU instead of sigmoid/tanh in hidden layers"
    categories = ("model.saturation",)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        model = setup.model_copy()
        hidden, _ = split_at_last_weight(model)
        places = [slot for slot in hidden if isinstance(slot.module, SATURATING)]
        if not places:
            raise NotApplicable(
                "the saturating activations are not modules deadpan can swap (called as functions in forward)"
            )
        for slot in places:
            slot.replace(nn.ReLU())
        reinitialize(model)
        return setup.but(self.name, model=model)

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        config = setup.config_copy()
        hidden = weight_layers(config)[:-1]
        places = [layer for layer in hidden if activation_of(layer) in ("tanh", "sigmoid", "hard_sigmoid")]
        if not places:
            raise NotApplicable("no hidden layer has a sigmoid or tanh activation deadpan can swap")
        for layer in places:
            layer["activation"] = "relu"
        reinitialized(config)
        return setup.but(self.name, config=config, weights=None)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return render(Change("relu_activations", what="hidden activation", proposed="relu"), framework_of(ev))
