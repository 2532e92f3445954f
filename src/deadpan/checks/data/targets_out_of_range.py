"""DP104 targets-out-of-range."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import class_axis, loss_name, numeric, one_hot_loss
from deadpan.evidence import Evidence, LossCall
from deadpan.findings import Change, Finding
from deadpan.phrasebook import framework_of, say

#: Losses that take class indices in [0, C) (``cross_entropy_probs``: Keras' sparse categorical cross-entropy
#: of probabilities).
INDEX_LOSSES = ("cross_entropy", "nll_loss", "cross_entropy_probs")
#: Losses that take targets in [0, 1].
BINARY_LOSSES = ("binary_cross_entropy", "binary_cross_entropy_with_logits")
#: PyTorch's default ``ignore_index`` for ``CrossEntropyLoss``/``NLLLoss``: a legitimate negative target.
IGNORE_INDEX = -100
#: Slack around [0, 1] for binary targets (float rounding, label smoothing never leaves the interval).
UNIT_TOLERANCE = 1e-6


@register
class TargetsOutOfRange(Check):
    """Targets outside the range the loss accepts: class ids >= C or < 0, binary targets outside [0, 1].

    What it detects:
        ``CrossEntropyLoss``/``NLLLoss`` with integer targets whose largest value is at least the number of
        output units C (e.g. 1-based labels 1..C) or that are negative (other than ``ignore_index=-100``), and
        ``BCELoss``/``BCEWithLogitsLoss`` with targets outside [0, 1] (e.g. -1/+1 labels, 0/255 masks).

    Why it makes the output constant:
        Out-of-range class ids index past the output (a crash on CPU, a device assert or garbage on GPU, and
        silent wrong losses in some frameworks). A binary target above 1 or below 0 makes the binary
        cross-entropy unbounded below: the loss keeps falling as the logit runs to infinity, so every output
        saturates at the same extreme value.

    Fix:
        Map the labels to 0..C-1 (``y = y - 1`` for 1-based labels, ``sklearn.preprocessing.LabelEncoder``) or
        give the last layer as many units as classes; map binary targets to {0, 1} (``(y + 1) / 2`` for -1/+1,
        ``y / 255.`` for masks).
    """

    code = "DP104"
    name = "targets-out-of-range"
    category = "data.labels"
    requires = ("loss",)

    def judge(self, ev: Evidence) -> Finding | None:
        loss = ev.loss
        assert loss is not None
        tmin, tmax = float(loss.target_min), float(loss.target_max)
        if ev.data is not None and numeric(ev.data.y):
            y = np.asarray(ev.data.y, dtype=float)
            y = y[np.isfinite(y)]
            if len(y):
                tmin, tmax = min(tmin, float(y.min())), max(tmax, float(y.max()))
        if not (np.isfinite(tmin) and np.isfinite(tmax)):
            return None  # non-finite targets are DP112's finding
        evidence: dict[str, object] = {
            "loss": loss.function,
            "input_shape": loss.input_shape,
            "target_min": tmin,
            "target_max": tmax,
        }

        if (
            loss.function in INDEX_LOSSES
            and not one_hot_loss(ev)
            and loss.target_is_integer
            and loss.input_shape
        ):
            return self._class_ids(ev, loss, evidence, tmin, tmax)
        if loss.function in BINARY_LOSSES:
            return self._binary(ev, loss, evidence, tmin, tmax)
        return None

    def _class_ids(
        self, ev: Evidence, loss: LossCall, evidence: dict[str, object], tmin: float, tmax: float
    ) -> Finding | None:
        """Class ids outside 0..C-1 for a loss that takes ids (Keras' non-sparse categorical losses take
        one-hot rows, never ids: a one-unit output with 0/1 targets is categorical-loss-on-one-unit)."""
        # The class dimension is dim 1 for (N, C, ...) inputs and dim 0 for an unbatched (C,) input;
        # Keras' is the last axis.
        n_classes = int(loss.input_shape[class_axis(ev, loss.input_shape)])
        too_big = tmax >= n_classes
        negative = tmin < 0 and tmin != IGNORE_INDEX
        if not (too_big or negative):
            return None
        evidence["n_output_units"] = n_classes
        ids = {"last": n_classes - 1}
        if too_big and tmin >= 1 and tmax == n_classes:
            change = Change(
                "shift_class_ids", what="labels", current=[tmin, tmax], proposed=[0, n_classes - 1]
            )
        elif too_big:
            params = {**ids, "units": int(tmax) + 1, "from_logits": loss.from_logits}
            change = Change("map_class_ids", what="labels", current=[tmin, tmax], params=params)
        else:
            change = Change("mark_unlabeled", what="labels", current=[tmin, tmax], params=ids)
        fn = say("loss", framework_of(ev), loss_fn=loss.function, loss=loss_name(ev))
        return self.finding(
            ev,
            message=f"`{fn}` gets class ids in [{tmin:.0f}, {tmax:.0f}] but the model has {n_classes} "
            f"output units, so valid ids are 0..{n_classes - 1}: out-of-range targets index past the "
            "output.",
            change=change,
            evidence=evidence,
            strength=0.9,
        )

    def _binary(
        self, ev: Evidence, loss: LossCall, evidence: dict[str, object], tmin: float, tmax: float
    ) -> Finding | None:
        """Targets outside [0, 1] for a binary cross-entropy."""
        if tmin >= -UNIT_TOLERANCE and tmax <= 1 + UNIT_TOLERANCE:
            return None
        fw = framework_of(ev)
        fn = say("loss", fw, loss_fn=loss.function, loss=loss_name(ev))
        seen = [tmin, tmax]
        if tmin < 0 and tmin >= -1 - UNIT_TOLERANCE and tmax <= 1 + UNIT_TOLERANCE:
            change = Change("binary_targets_from_signs", what="targets", current=seen, proposed=[0, 1])
        elif tmin >= 0 and tmax <= 255 + UNIT_TOLERANCE:
            change = Change("binary_targets_from_masks", what="targets", current=seen, proposed=[0, 1])
        else:
            change = Change("binary_targets_from_labels", what="targets", current=seen, proposed=[0, 1])
        return self.finding(
            ev,
            message=f"`{fn}` expects targets in [0, 1] but gets values in [{tmin:.3g}, {tmax:.3g}]: "
            f"outside [0, 1] {say('unbounded_binary_loss', fw)} and every output saturates at the same "
            "value.",
            change=change,
            evidence=evidence,
            strength=0.9,
        )
