"""DP309 nll-on-raw-outputs."""

from __future__ import annotations

import math

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import loss_curve, misbehaving, output_probe, symptom_evidence
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: The losses that take log-probabilities: ``F.nll_loss`` / ``nn.NLLLoss`` (one per class and sample).
LOG_PROBABILITY_LOSSES = ("nll_loss",)
#: A log-probability is log(p) with p <= 1, so it is never positive. ``log_softmax`` rounds its largest entry
#: to within a few float32 ulps of 0 (eps ~1.2e-7 times the logits' size); anything above this slack is not
#: a log-probability, and a linear layer's raw outputs exceed it almost surely.
LOG_PROB_TOLERANCE = 1e-3
#: Likewise the NLL of log-probabilities, -log p >= 0, is never negative: a training loss below this confirms
#: it in the message. Not a trigger by itself: the loss that reaches ``backward`` may add other terms (an
#: entropy bonus ...) that can make it negative legitimately.
NEGATIVE_LOSS = -1e-3
#: Strength when the output is collapsed or scores poorly (the mismatch explains it), when no output was
#: probed, and when the model scores well anyway (still a bug: the loss falls without bound).
STRENGTH_SYMPTOM = 0.9
STRENGTH_UNPROBED = 0.8
STRENGTH_NO_SYMPTOM = 0.45


@register
class NllOnRawOutputs(Check):
    """``NLLLoss`` fed raw outputs (logits) instead of log-probabilities: ``log_softmax`` is missing.

    What it detects:
        ``nn.NLLLoss`` / ``F.nll_loss`` receiving positive values (often with a negative training loss), or
        values whose rows are not normalised: its input must be log-probabilities (every value <= 0,
        ``logsumexp`` over the classes 0), as ``F.log_softmax(out, dim=1)`` gives, but the model ends in a
        plain ``Linear`` (logits). (Softmax probabilities into ``NLLLoss`` are DP301's finding, a log-softmax
        over the batch axis DP212's.)

    Why it makes the output constant:
        ``NLLLoss`` only picks ``-input[target]``; it does not normalise over the classes. On raw outputs
        nothing ties the classes together, so the loss falls without bound (it goes negative) by making the
        target outputs ever larger. The cheapest way to do that is to grow the weights and biases that raise
        every output for every input, the outputs run off to huge values (or NaN), and the largest one ends up
        the same class for every input. Unnormalised values <= 0 let the loss reach 0 by pushing every class
        to 0 at once: the outputs then say nothing about the class.

    Fix:
        Add ``nn.LogSoftmax(dim=1)`` (``F.log_softmax(out, dim=1)``) as the model's last step before
        ``nn.NLLLoss``, or drop the ``NLLLoss`` and pass the raw logits to ``nn.CrossEntropyLoss``, which is
        log-softmax and NLL in one, computed stably.
    """

    code = "DP309"
    name = "nll-on-raw-outputs"
    category = "loss.mismatch"
    requires = ("loss",)

    def judge(self, ev: Evidence) -> Finding | None:
        loss = ev.loss
        assert loss is not None
        if loss.function not in LOG_PROBABILITY_LOSSES:
            return None
        if loss.input_rows_are_probabilities:
            return None  # softmax probabilities: DP301 (softmax-into-cross-entropy) names that
        if loss.input_columns_are_log_probabilities and not loss.input_rows_are_log_probabilities:
            return None  # a log-softmax over the batch axis: DP212 (softmax-wrong-axis) names that
        positive = loss.input_max > LOG_PROB_TOLERANCE  # NaN compares False
        # Every value <= 0 but the rows not normalised (measured where the capture could): -softplus,
        # log-sigmoid per class ... each class's log-probability can then reach 0 on its own.
        unnormalised = not positive and loss.input_rows_are_log_probabilities is False
        if not (positive or unnormalised):
            return None  # log-probabilities, or values <= 0 whose normalisation was not measured
        lowest = math.nan
        if ev.training is not None:
            _, values = loss_curve(ev.training)
            if len(values):
                lowest = float(values.min())
        negative = lowest < NEGATIVE_LOSS

        if output_probe(ev) is None:
            strength, severity = STRENGTH_UNPROBED, Severity.ERROR
        elif misbehaving(ev):
            strength, severity = STRENGTH_SYMPTOM, Severity.ERROR
        else:
            strength, severity = STRENGTH_NO_SYMPTOM, Severity.WARNING

        if positive:
            seen = f"raw outputs (logits): values up to {loss.input_max:.3g}"
            effect = (
                "the loss falls without bound by inflating the outputs, and the largest one ends up the "
                "same class for every input"
            )
        else:
            seen = (
                f"values in [{loss.input_min:.3g}, {loss.input_max:.3g}] whose rows are not normalised "
                "(logsumexp over the classes is not 0)"
            )
            effect = "the loss reaches 0 by pushing every class to 0 at once, whatever the input"
        if negative:
            seen += f", and the training loss went down to {lowest:.3g}"
        return self.finding(
            ev,
            message="`nll_loss` expects log-probabilities (every value <= 0, so the loss is >= 0) but "
            f"receives {seen}. It only takes -input[target], without normalising over the classes, so "
            f"{effect}.",
            change=Change("add_log_softmax", what="output activation", proposed="log_softmax"),
            evidence={
                "loss": loss.function,
                "input_shape": loss.input_shape,
                "input_min": loss.input_min,
                "input_max": loss.input_max,
                "input_rows_are_log_probabilities": loss.input_rows_are_log_probabilities,
                "lowest_training_loss": lowest if math.isfinite(lowest) else None,
                **symptom_evidence(ev),
            },
            strength=strength,
            severity=severity,
        )
