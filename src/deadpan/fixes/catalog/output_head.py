"""Give the output layer an activation that can express the answer."""

from __future__ import annotations

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.keras_trial import KerasTrialSetup, activation_of, weight_layers
from deadpan.phrasebook import framework_of, render

#: Activation modules (``torch.nn`` classes) that can sit after the last weight layer.
HEADS = ("ReLU", "ReLU6", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Hardtanh", "Softplus")


@register
class OutputHead(Fix):
    """Replace the activation after the last layer on a copy: none for regression (a ReLU or sigmoid there
    clips targets outside its range to its limit), a sigmoid for a single binary unit (a softmax over one
    unit is 1 whatever the input), none before a ReLU on logits. The output can then take every value the
    targets need."""

    name = "output-head"
    title = "an output layer that can express the targets"
    categories = ("model.output",)
    finding_names = ("clipping-output-head", "softmax-over-one-unit", "relu-on-logits")

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        from torch import nn

        from deadpan.fixes.modules import split_at_last_weight

        model = setup.model_copy()
        _, after = split_at_last_weight(model)
        classes = tuple(getattr(nn, name) for name in HEADS)
        heads = [slot for slot in after if isinstance(slot.module, classes)]
        if not heads:
            raise NotApplicable(
                "the output activation is not a module deadpan can replace (called in forward)"
            )
        head = heads[-1]
        one_unit_softmax = isinstance(head.module, nn.Softmax) and setup.task.kind == "binary"
        new: nn.Module = nn.Sigmoid() if one_unit_softmax else nn.Identity()
        head.replace(new)
        change = f"{self.name} ({type(head.module).__name__} -> {type(new).__name__})"
        return setup.but(change, model=model)

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        config = setup.config_copy()
        layers = weight_layers(config)
        if not layers:
            raise NotApplicable("the model has no output layer with a kernel")
        head = layers[-1]
        old = activation_of(head)
        one_unit_softmax = old == "softmax" and setup.task.kind == "binary"
        new = "sigmoid" if one_unit_softmax else "linear"
        if old == new or old == "linear":
            raise NotApplicable(
                "the output activation is not on the last layer (a separate layer or a custom call)"
            )
        head["activation"] = new
        return setup.but(f"{self.name} ({old} -> {new})", config=config)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        one_unit_softmax = any(f.name == "softmax-over-one-unit" for f in findings)
        change = Change(
            "output_head",
            what="output activation",
            proposed="sigmoid" if one_unit_softmax else "linear",
            params={"one_unit_softmax": one_unit_softmax},
        )
        return render(change, framework_of(ev))
