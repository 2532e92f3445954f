"""DP306 initial-loss-off."""

from __future__ import annotations

import math

from deadpan.checks.base import Check, register
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: Karpathy, "A recipe for training neural networks" (2019), "verify loss @ init": a fresh classifier
#: should start at about ln C for softmax cross-entropy. Off by more than these factors, the outputs at
#: initialisation are scaled wrong (too confident, or already fitted by something else).
HIGH_RATIO = 3.0
LOW_RATIO = 0.3
#: Off by this factor or more, or non-finite, the initial scale is extreme: reported as an error.
EXTREME_RATIO = 30.0
#: Strengths: an off initial loss only suggests a scale problem, the other checks name the layer.
STRENGTH_HIGH = 0.4
STRENGTH_LOW = 0.3
STRENGTH_EXTREME = 0.5


@register
class InitialLossOff(Check):
    """The loss at initialisation is far from its expected value (ln C for cross-entropy).

    What it detects:
        The first loss value (or the loss of the untrained model) is more than 3x above, or below 0.3x, the
        value a freshly initialised model should give: ln C for softmax cross-entropy over C classes.

    Why it makes the output constant:
        A loss far above ln C at initialisation means the outputs start huge and confidently wrong: the
        weights or the last layer are scaled too large, the softmax saturates, and the first large gradients
        push the model to the answer that is least wrong on average, the same class for every input. A loss
        far below ln C means the model was not freshly initialised (or the loss is not what deadpan thinks).

    Fix:
        Use the default initialisation (or ``nn.init.kaiming_normal_`` / ``xavier_uniform_``), scale the last
        layer down (``model.fc.weight.data.mul_(0.01)``, ``nn.init.zeros_(model.fc.bias)``) and, for
        imbalanced classes, start its bias at the log class priors; check the inputs are standardised.
    """

    code = "DP306"
    name = "initial-loss-off"
    category = "init.scale"
    requires = ("probes.initial_loss", "probes.expected_initial_loss")

    def judge(self, ev: Evidence) -> Finding | None:
        initial, expected = ev.probes.initial_loss, ev.probes.expected_initial_loss
        if initial is None or expected is None or not math.isfinite(expected) or expected <= 0:
            return None
        ratio = initial / expected if math.isfinite(initial) else math.inf
        if LOW_RATIO <= ratio <= HIGH_RATIO:
            return None
        evidence = {"initial_loss": initial, "expected_initial_loss": expected, "ratio": ratio}
        if ratio > HIGH_RATIO:
            extreme = ratio >= EXTREME_RATIO
            return self.finding(
                ev,
                message=f"the loss at initialisation is {initial:.4g}, "
                + (f"{ratio:.3g}x" if math.isfinite(ratio) else "far above")
                + f" the {expected:.4g} a fresh model should give (ln C for cross-entropy): the outputs "
                "start far too large and confidently wrong, which saturates the output and drives it to "
                "one answer.",
                change=Change(
                    "shrink_initial_outputs", what="initial loss", current=initial, proposed=expected
                ),
                evidence=evidence,
                strength=STRENGTH_EXTREME if extreme else STRENGTH_HIGH,
                severity=Severity.ERROR if extreme else Severity.WARNING,
            )
        return self.finding(
            ev,
            message=f"the loss at initialisation is {initial:.4g}, only {ratio:.2g}x the {expected:.4g} a "
            "fresh model should give (ln C for cross-entropy): the model was not freshly initialised, or "
            "its outputs are scaled so that the loss starts out misleadingly low.",
            change=Change("fresh_init", what="initial loss", current=initial, proposed=expected),
            evidence=evidence,
            strength=STRENGTH_LOW,
            severity=Severity.WARNING,
        )
