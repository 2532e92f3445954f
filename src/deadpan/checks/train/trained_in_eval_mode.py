"""DP505 trained-in-eval-mode."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: Fraction of optimizer steps taken with the model in eval mode from which training is "in eval mode".
EVAL_FRACTION = 0.5
#: Training in eval mode changes what dropout and batch-norm do, it does not stop learning by itself.
STRENGTH = 0.6


@register
class TrainedInEvalMode(Check):
    """The model is trained in eval mode.

    What it detects:
        Most optimizer steps (at least half) taken while the model was in eval mode (``model.eval()`` called
        before the training loop, or after a validation pass without ``model.train()`` again), in a model
        that has dropout or batch-norm layers.

    Why it makes the output constant:
        In eval mode batch-norm normalises with its running statistics, which are never updated, instead of
        the batch's: activations are left unnormalised, so they grow or shrink layer by layer until the
        units saturate or die and the output stops depending on the input. Dropout is also switched off, so
        nothing regularises the network.

    Fix:
        Call ``model.train()`` at the start of every training epoch (after any validation pass) and
        ``model.eval()`` only for evaluation.
    """

    code = "DP505"
    name = "trained-in-eval-mode"
    category = "train.loop"
    requires = ("training", "model")

    def judge(self, ev: Evidence) -> Finding | None:
        tr, model = ev.training, ev.model
        assert tr is not None and model is not None
        if tr.steps <= 0 or not model.has_mode_dependent_layers:
            return None
        fraction = tr.steps_in_eval_mode / tr.steps
        if fraction < EVAL_FRACTION:
            return None
        layers = sorted(
            {layer.kind for layer in model.layers if "Norm" in layer.kind or "Dropout" in layer.kind}
        )
        return self.finding(
            ev,
            message=f"{tr.steps_in_eval_mode} of {tr.steps} optimizer steps ran with the model in eval mode, "
            "so its " + (", ".join(layers) if layers else "dropout/batch-norm") + " layers behaved as at "
            "inference: batch-norm used its never-updated running statistics and dropout was off.",
            change=Change("train_mode", what="model mode", current="eval", proposed="train"),
            evidence={
                "steps": tr.steps,
                "steps_in_eval_mode": tr.steps_in_eval_mode,
                "eval_fraction": fraction,
                "mode_dependent_layers": layers,
            },
            strength=STRENGTH,
            severity=Severity.WARNING,
        )
