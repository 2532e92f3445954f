"""DP307 logits-into-probability-loss."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import loss_name, misbehaving, output_probe, symptom_evidence
from deadpan.evidence import Evidence, LossCall
from deadpan.findings import Change, Finding, Severity

#: Losses that take probabilities: binary cross-entropy of a probability per unit, and categorical
#: cross-entropy of probability rows (Keras' ``from_logits=False`` default, "cross_entropy_probs").
PROBABILITY_LOSSES = ("binary_cross_entropy", "cross_entropy_probs")
#: Slack around [0, 1] before a value counts as outside it: a few float32 ulps (eps ~1.2e-7) of rounding in
#: a sigmoid or softmax, far below anything a linear output layer produces.
RANGE_TOLERANCE = 1e-5
#: Strength when the output is collapsed or scores poorly (the mismatch explains it), when no output was
#: probed, and when the model scores well anyway (the outputs mostly stayed inside [0, 1]: still a bug).
STRENGTH_SYMPTOM = 0.9
STRENGTH_UNPROBED = 0.75
STRENGTH_NO_SYMPTOM = 0.45


def _units(ev: Evidence, loss: LossCall) -> int | None:
    """Width of the output the loss received (its last axis), from the task else the loss input."""
    if ev.task is not None and ev.task.n_outputs > 0:
        return ev.task.n_outputs
    return loss.input_shape[-1] if len(loss.input_shape) >= 2 else None


@register
class LogitsIntoProbabilityLoss(Check):
    """Raw outputs (logits) fed to a loss that expects probabilities.

    What it detects:
        A loss that expects probabilities, binary cross-entropy or categorical cross-entropy of
        probabilities, receiving values outside [0, 1]: the output layer has no sigmoid/softmax, e.g. a
        Keras ``Dense(1)`` with no activation and ``loss="binary_crossentropy"`` (``from_logits=False``).

    Why it makes the output constant:
        Keras clips the loss input to [eps, 1 - eps] before the log (and divides categorical rows by their
        sum first). Every output below 0 (or above 1) then gives the same loss and exactly zero gradient: a
        unit pushed to the wrong side of [0, 1] for an example never gets a signal to come back, more and
        more examples end up there, and the output settles on one answer for every input. (PyTorch's
        ``F.binary_cross_entropy`` raises on such input instead.)

    Fix:
        Keras: keep the output layer linear and pass ``from_logits=True`` to the loss
        (``keras.losses.BinaryCrossentropy(from_logits=True)``, ``CategoricalCrossentropy(from_logits=True)``
        ...), or put ``activation="sigmoid"`` (``"softmax"`` for several classes) on the output layer.
        PyTorch: use ``nn.BCEWithLogitsLoss`` / ``nn.CrossEntropyLoss`` on the raw output, or end the model in
        ``nn.Sigmoid`` before ``nn.BCELoss``.
    """

    code = "DP307"
    name = "logits-into-probability-loss"
    category = "loss.mismatch"
    requires = ("loss",)

    def judge(self, ev: Evidence) -> Finding | None:
        loss = ev.loss
        assert loss is not None
        if loss.function not in PROBABILITY_LOSSES:
            return None
        below = loss.input_min < -RANGE_TOLERANCE
        above = loss.input_max > 1.0 + RANGE_TOLERANCE
        if not (below or above):
            return None  # NaN bounds compare False and stay silent too
        binary = loss.function == "binary_cross_entropy"

        if output_probe(ev) is None:
            strength, severity = STRENGTH_UNPROBED, Severity.ERROR
        elif misbehaving(ev):
            strength, severity = STRENGTH_SYMPTOM, Severity.ERROR
        else:
            strength, severity = STRENGTH_NO_SYMPTOM, Severity.WARNING

        name = loss_name(ev)
        clipped = "below 0" if below and not above else "above 1" if above and not below else "outside [0, 1]"
        if binary:
            how = "The loss clips its input to [eps, 1 - eps]"
        else:
            how = (
                "The loss divides each row by its sum (which may be negative or near 0) and clips it to "
                "[eps, 1 - eps]"
            )
        change = Change(
            "loss_from_logits",
            what="loss",
            current=loss.function,
            params={"binary": binary, "loss": name, "loss_id": loss.name, "units": _units(ev, loss)},
        )
        return self.finding(
            ev,
            message=f"`{name}` expects probabilities but receives values in "
            f"[{loss.input_min:.3g}, {loss.input_max:.3g}]: the output layer has no "
            f"{'sigmoid' if binary else 'softmax'}. {how}, so every output {clipped} "
            "gives the same loss and zero gradient, and units pushed there never come back.",
            change=change,
            evidence={
                "loss": loss.function,
                "loss_name": loss.name or loss.function,
                "from_logits": loss.from_logits,
                "input_shape": loss.input_shape,
                "input_min": loss.input_min,
                "input_max": loss.input_max,
                **symptom_evidence(ev),
            },
            strength=strength,
            severity=severity,
        )
