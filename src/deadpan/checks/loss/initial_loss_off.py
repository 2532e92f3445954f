"""DP306 initial-loss-off."""

from __future__ import annotations

import math

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import is_keras
from deadpan.evidence import Evidence
from deadpan.findings import Finding, Severity

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

TORCH_FRESH_FIX = (
    "check the model starts from a fresh initialisation (no `model.load_state_dict(...)` of a trained "
    "checkpoint before this run), and that the loss is computed on this model's raw logits and the real "
    "targets"
)
KERAS_FRESH_FIX = (
    "check the model starts from a fresh initialisation (no `model.load_weights(...)` of a trained "
    "checkpoint, nor a model already trained by an earlier `fit`, before this run), and that `model.fit` "
    "gets the real targets"
)


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
        keras = is_keras(ev)
        if keras:
            fix = (
                'scale the initial outputs down: keep the default `kernel_initializer="glorot_uniform"` (or '
                '`"he_normal"`) instead of a large custom one, start the output layer small with '
                "`kernel_initializer=keras.initializers.RandomNormal(stddev=0.01)` and "
                '`bias_initializer="zeros"` (for imbalanced classes '
                "`bias_initializer=keras.initializers.Constant(np.log(priors))`), and standardise the inputs"
            )
        else:
            fix = (
                "scale the initial outputs down: use the default initialisation (or "
                "`nn.init.kaiming_normal_`/`nn.init.xavier_uniform_`) instead of a large custom one, shrink "
                "the last layer with `model.fc.weight.data.mul_(0.01)` and `nn.init.zeros_(model.fc.bias)` "
                "(for imbalanced classes set the bias to the log class priors), and standardise the inputs"
            )
        if ratio > HIGH_RATIO:
            extreme = ratio >= EXTREME_RATIO
            return self.finding(
                message=f"the loss at initialisation is {initial:.4g}, "
                + (f"{ratio:.3g}x" if math.isfinite(ratio) else "far above")
                + f" the {expected:.4g} a fresh model should give (ln C for cross-entropy): the outputs "
                "start far too large and confidently wrong, which saturates the output and drives it to "
                "one answer.",
                fix=fix,
                evidence=evidence,
                strength=STRENGTH_EXTREME if extreme else STRENGTH_HIGH,
                severity=Severity.ERROR if extreme else Severity.WARNING,
            )
        return self.finding(
            message=f"the loss at initialisation is {initial:.4g}, only {ratio:.2g}x the {expected:.4g} a "
            "fresh model should give (ln C for cross-entropy): the model was not freshly initialised, or "
            "its outputs are scaled so that the loss starts out misleadingly low.",
            fix=KERAS_FRESH_FIX if keras else TORCH_FRESH_FIX,
            evidence=evidence,
            strength=STRENGTH_LOW,
            severity=Severity.WARNING,
        )
