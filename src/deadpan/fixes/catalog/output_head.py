"""Give the output layer an activation that can express the answer."""

from __future__ import annotations

from torch import nn

from deadpan.checks.symptoms import is_keras
from deadpan.evidence import Evidence
from deadpan.findings import Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.catalog.reinitialize import WEIGHTED

#: Activation modules that can sit after the last weight layer.
HEADS = (nn.ReLU, nn.ReLU6, nn.Sigmoid, nn.Tanh, nn.Softmax, nn.LogSoftmax, nn.Hardtanh, nn.Softplus)


def _head(model: nn.Module) -> tuple[nn.Module, str, nn.Module] | None:
    """(parent, attribute, module) of the last activation module after the last weight layer."""
    order = list(model.named_modules())
    last_weight = max((i for i, (_, m) in enumerate(order) if isinstance(m, WEIGHTED)), default=-1)
    for name, m in reversed(order[last_weight + 1 :]):
        if isinstance(m, HEADS) and name:
            parent_name, _, attr = name.rpartition(".")
            return (model.get_submodule(parent_name) if parent_name else model), attr, m
    return None


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
        model = setup.model_copy()
        head = _head(model)
        if head is None:
            raise NotApplicable(
                "the output activation is not a module deadpan can replace (called in forward)"
            )
        parent, attr, module = head
        one_unit_softmax = isinstance(module, nn.Softmax) and setup.task.kind == "binary"
        setattr(parent, attr, nn.Sigmoid() if one_unit_softmax else nn.Identity())
        return setup.but(
            f"{self.name} ({type(module).__name__} -> {type(getattr(parent, attr)).__name__})", model=model
        )

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        names = {f.name for f in findings}
        if "softmax-over-one-unit" in names:
            if is_keras(ev):
                return 'use `layers.Dense(1, activation="sigmoid")` with `loss="binary_crossentropy"`'
            return (
                "use `nn.Sigmoid()` on the single output unit (or drop it and train with "
                "`nn.BCEWithLogitsLoss()`)"
            )
        if is_keras(ev):
            return 'end the model with `layers.Dense(k)` (no activation, i.e. `activation="linear"`)'
        return "end the model with the last `nn.Linear` (remove the activation after it)"
