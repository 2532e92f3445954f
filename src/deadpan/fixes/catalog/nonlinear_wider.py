"""Give a too-simple model hidden layers with a non-linearity between them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.keras_trial import (
    KerasTrialSetup,
    activation_of,
    layer_configs,
    reinitialized,
    without_build_configs,
)
from deadpan.phrasebook import framework_of, render

if TYPE_CHECKING:
    from torch import nn

#: Width of every hidden layer of the rebuilt model (at least; wider layers keep their width).
HIDDEN = 64
#: Layers (``torch.nn`` classes) that may stand between two Linear layers without adding a non-linearity.
PASSTHROUGH = ("Identity", "Dropout", "Flatten")


def rebuilt(model: nn.Module) -> nn.Sequential:
    """``model`` (an ``nn.Sequential`` of Linear layers, pass-through layers and an output activation) as
    Linear-ReLU blocks with hidden layers at least :data:`HIDDEN` wide, the same input and output sizes, and
    whatever followed the last Linear (the output activation) kept."""
    from torch import nn

    passthrough = tuple(getattr(nn, name) for name in PASSTHROUGH)
    if not isinstance(model, nn.Sequential):
        raise NotApplicable("the model is not an nn.Sequential, which deadpan can rebuild wider")
    layers = list(model)
    linear = [i for i, m in enumerate(layers) if isinstance(m, nn.Linear)]
    if not linear or any(not isinstance(m, (nn.Linear, *passthrough)) for m in layers[: linear[-1]]):
        raise NotApplicable("the model holds layers other than Linear ones before its output")
    first, last = layers[linear[0]], layers[linear[-1]]
    assert isinstance(first, nn.Linear) and isinstance(last, nn.Linear)
    hidden = [m for m in (layers[i] for i in linear[:-1]) if isinstance(m, nn.Linear)]
    widths: list[int] = [max(HIDDEN, int(m.out_features)) for m in hidden] or [HIDDEN]
    blocks: list[nn.Module] = []
    size = int(first.in_features)
    for w in widths:
        blocks += [nn.Linear(size, w), nn.ReLU()]
        size = w
    blocks.append(nn.Linear(size, last.out_features))
    return nn.Sequential(*blocks, *layers[linear[-1] + 1 :])


@register
class NonlinearWider(Fix):
    """Rebuild an ``nn.Sequential`` of Linear layers as Linear-ReLU blocks, at least 64 units wide (one hidden
    layer for a single Linear). Linear layers with nothing between them compose to one linear map, and one
    linear map cannot separate classes that no hyperplane separates; a hidden non-linear layer can."""

    name = "nonlinear-wider"
    title = "hidden layers with ReLU between them"
    categories = ("model.capacity",)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        model = rebuilt(setup.model)
        model.to(next(setup.model.parameters()).device)
        return setup.but(self.name, model=model)

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        if setup.kind != "Sequential":
            raise NotApplicable("only a Sequential Keras model is rebuilt with hidden layers")
        config = setup.config_copy()
        entries = [e for e in layer_configs(config) if e.get("class_name") != "Dense"]
        if entries:
            raise NotApplicable("the model has layers other than Dense, which this fix does not rebuild")
        dense = layer_configs(config)
        for entry in dense[:-1]:
            layer = entry["config"]
            if activation_of(layer) == "linear":
                layer["activation"] = "relu"
            layer["units"] = max(int(layer["units"]), HIDDEN)
        if len(dense) == 1:
            hidden: dict[str, Any] = {
                "module": "keras.layers",
                "class_name": "Dense",
                "registered_name": None,
            }
            hidden["config"] = {"name": "deadpan_hidden", "units": HIDDEN, "activation": "relu"}
            config["layers"].insert(config["layers"].index(dense[0]), hidden)
        reinitialized(config)
        without_build_configs(config)
        return setup.but(self.name, config=config, weights=None)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        change = Change("nonlinear_wider", what="hidden layers", params={"hidden": HIDDEN})
        return render(change, framework_of(ev))
