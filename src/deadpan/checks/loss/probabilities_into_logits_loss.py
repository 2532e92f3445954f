"""DP304 probabilities-into-logits-loss."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import loss_name
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.phrasebook import framework_of, say

#: Loss that applies a sigmoid to its input itself.
LOGITS_LOSS = "binary_cross_entropy_with_logits"
#: Strength when the loss input lies in [0, 1] at the first call (logits from a fresh model are spread
#: around 0, so a batch of them all inside [0, 1] points at a sigmoid already applied).
STRENGTH = 0.85
#: Strength when, in addition, the trained model's final output still lies in [0, 1] for every probe sample.
STRENGTH_CONFIRMED = 0.9


@register
class ProbabilitiesIntoLogitsLoss(Check):
    """Probabilities fed to a loss that expects logits (a double sigmoid).

    What it detects:
        ``BCEWithLogitsLoss`` / ``F.binary_cross_entropy_with_logits`` receiving inputs that all lie in
        [0, 1]: the model already ends in ``torch.sigmoid`` / ``nn.Sigmoid``.

    Why it makes the output constant:
        The loss applies a sigmoid itself, so it sees sigmoid(p) with p in [0, 1], i.e. values between 0.5 and
        0.73: it can never push a negative example below 0.5, and the two stacked sigmoids shrink the
        gradients. The model drifts to the majority class and stays there for every input.

    Fix:
        Remove the final ``torch.sigmoid`` / ``nn.Sigmoid`` from the model and pass raw logits to
        ``BCEWithLogitsLoss``; apply ``torch.sigmoid`` only when you need probabilities at inference time.
    """

    code = "DP304"
    name = "probabilities-into-logits-loss"
    category = "loss.mismatch"
    requires = ("loss",)

    def judge(self, ev: Evidence) -> Finding | None:
        loss = ev.loss
        assert loss is not None
        if loss.function != LOGITS_LOSS:
            return None
        if not (loss.input_min >= 0.0 and loss.input_max <= 1.0):
            return None
        probe = ev.probes.train_output
        confirmed = probe is not None and probe.outputs_in_unit_interval
        if probe is not None and not confirmed:
            return None  # the final outputs leave [0, 1]: no sigmoid at the end, the first batch was chance
        name = say("logits_loss", framework_of(ev), loss_fn=loss.function, loss=loss_name(ev))
        return self.finding(
            ev,
            message=f"{name} receives values in [{loss.input_min:.3g}, {loss.input_max:.3g}], "
            "i.e. probabilities, but expects logits: the sigmoid is applied twice, the loss only sees "
            "values between 0.5 and 0.73 and the gradients shrink.",
            change=Change(
                "drop_output_sigmoid",
                what="output activation",
                current="sigmoid",
                params={"loss": loss_name(ev)},
            ),
            evidence={
                "loss": loss.function,
                "input_min": loss.input_min,
                "input_max": loss.input_max,
                "final_outputs_in_unit_interval": confirmed,
            },
            strength=STRENGTH_CONFIRMED if confirmed else STRENGTH,
        )
