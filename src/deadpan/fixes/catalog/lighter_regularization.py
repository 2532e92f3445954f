"""Take out the regularisation that pushes the model to a constant."""

from __future__ import annotations

import dataclasses

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.keras_trial import KerasTrialSetup, layer_configs
from deadpan.phrasebook import framework_of, render


@register
class LighterRegularization(Fix):
    """Set the optimizer's weight decay to 0 and every dropout probability to 0 on a copy. Regularisation so
    strong that it outweighs the data term drives the weights to zero and the output to the same constant
    for every input; without it the trial shows whether that is what held the model back."""

    name = "lighter-regularization"
    title = "removing weight decay and dropout"
    categories = ("train.over_regularized",)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        from torch import nn

        hyper = dict(setup.optimizer.hyper)
        decay = float(hyper.get("weight_decay", 0.0) or 0.0)
        model = setup.model_copy()
        dropouts = [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0]
        if decay <= 0 and not dropouts:
            raise NotApplicable(
                "no weight decay in the optimizer and no dropout module to remove (an L2 penalty added to "
                "the loss by hand is not rewritten)"
            )
        for m in dropouts:
            m.p = 0.0
        if decay > 0:
            hyper["weight_decay"] = 0.0
        return setup.but(self.name, model=model, optimizer=dataclasses.replace(setup.optimizer, hyper=hyper))

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        config = setup.config_copy()
        changed = 0
        for entry in layer_configs(config):
            layer = entry.get("config", {})
            for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
                if layer.get(key):
                    layer[key] = None
                    changed += 1
            if entry.get("class_name", "").endswith("Dropout") and layer.get("rate"):
                layer["rate"] = 0.0
                changed += 1
        opt = dict(setup.optimizer_config)
        if opt.get("weight_decay"):
            opt["weight_decay"] = None
            changed += 1
        if not changed:
            raise NotApplicable("no regularizer, dropout or optimizer weight decay to remove")
        return setup.but(self.name, config=config, optimizer_config=opt)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return render(Change("lighter_regularization", what="regularisation"), framework_of(ev))
