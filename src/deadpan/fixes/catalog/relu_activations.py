"""Replace saturating hidden activations by ReLU."""

from __future__ import annotations

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.catalog.reinitialize import reinitialize
from deadpan.fixes.keras_trial import KerasTrialSetup, activation_of, reinitialized, weight_layers
from deadpan.phrasebook import framework_of, render

#: Saturating activation modules (``torch.nn`` classes).
SATURATING = ("Sigmoid", "Tanh", "Hardsigmoid", "Hardtanh", "Softsign")


@register
class ReluActivations(Fix):
    """Swap every sigmoid/tanh module between the input and the last weight layer for ``nn.ReLU`` and
    re-initialise (He) on a copy. A ReLU's slope is 1 wherever it is active, so the gradient reaches the
    first layers at full strength, while a sigmoid's is at most 1/4 and nearly 0 when saturated."""

    name = "relu-activations"
    title = "ReLU instead of sigmoid/tanh in hidden layers"
    categories = ("model.saturation",)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        from torch import nn

        from deadpan.fixes.modules import split_at_last_weight

        model = setup.model_copy()
        hidden, _ = split_at_last_weight(model)
        saturating = tuple(getattr(nn, name) for name in SATURATING)
        places = [slot for slot in hidden if isinstance(slot.module, saturating)]
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
