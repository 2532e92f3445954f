"""DP104 targets-out-of-range."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import is_keras, keras_output_layer, loss_name, numeric
from deadpan.evidence import Evidence
from deadpan.findings import Finding

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

        keras = is_keras(ev)
        # Keras' non-sparse categorical losses take one-hot rows, not class ids: their targets are never
        # indices (a one-unit output with 0/1 targets is categorical-loss-on-one-unit, not this).
        takes_ids = not keras or loss.name.startswith("sparse")
        if loss.function in INDEX_LOSSES and takes_ids and loss.target_is_integer and loss.input_shape:
            # The class dimension is dim 1 for (N, C, ...) inputs and dim 0 for an unbatched (C,) input;
            # Keras' is the last axis.
            if keras:
                n_classes = int(loss.input_shape[-1])
            else:
                n_classes = int(loss.input_shape[1] if len(loss.input_shape) >= 2 else loss.input_shape[0])
            too_big = tmax >= n_classes
            negative = tmin < 0 and tmin != IGNORE_INDEX
            if not (too_big or negative):
                return None
            evidence["n_output_units"] = n_classes
            fn = "CrossEntropyLoss" if loss.function == "cross_entropy" else "NLLLoss"
            if keras:
                fn = loss_name(ev)
                wider = keras_output_layer(int(tmax) + 1, loss.from_logits)
                unlabeled = "`keras.losses.SparseCategoricalCrossentropy(ignore_class=-1)`"
            else:
                wider = f"nn.Linear(d, {int(tmax) + 1})"
                unlabeled = "`ignore_index=-100`"
            if too_big and tmin >= 1 and tmax == n_classes:
                fix = (
                    "the labels look 1-based: use `y = y - 1` so they run 0..C-1 (or encode them with "
                    "`sklearn.preprocessing.LabelEncoder`)"
                )
            elif too_big:
                fix = (
                    f"map the labels to 0..{n_classes - 1} (`sklearn.preprocessing.LabelEncoder`), or give "
                    f"the last layer one unit per class: `{wider}`"
                )
            else:
                fix = (
                    f"map the labels to 0..{n_classes - 1} (`sklearn.preprocessing.LabelEncoder`); mark "
                    f"unlabeled samples with {unlabeled} rather than another negative value"
                )
            return self.finding(
                message=f"`{fn}` gets class ids in [{tmin:.0f}, {tmax:.0f}] but the model has {n_classes} "
                f"output units, so valid ids are 0..{n_classes - 1}: out-of-range targets index past the "
                "output.",
                fix=fix,
                evidence=evidence,
                strength=0.9,
            )

        if loss.function in BINARY_LOSSES:
            if tmin >= -UNIT_TOLERANCE and tmax <= 1 + UNIT_TOLERANCE:
                return None
            fn = "BCEWithLogitsLoss" if loss.function.endswith("logits") else "BCELoss"
            as_float = ".float()"
            effect = "the loss is unbounded below, so the logits run to infinity"
            if is_keras(ev):
                fn, as_float = loss_name(ev), '.astype("float32")'
                effect = "the loss keeps falling as the outputs are pushed to their limit"
            if tmin < 0 and tmin >= -1 - UNIT_TOLERANCE and tmax <= 1 + UNIT_TOLERANCE:
                fix = "the targets look like -1/+1 labels: use `y = (y + 1) / 2` so they are 0/1"
            elif tmin >= 0 and tmax <= 255 + UNIT_TOLERANCE:
                fix = (
                    "map the targets to {0, 1}: `y = y / 255.` for 0/255 masks, "
                    f"`y = (y > 0){as_float}` for any other positive label"
                )
            else:
                fix = f"map the targets to {{0, 1}} (e.g. `y = (y == positive_label){as_float}`)"
            return self.finding(
                message=f"`{fn}` expects targets in [0, 1] but gets values in [{tmin:.3g}, {tmax:.3g}]: "
                f"outside [0, 1] {effect} and every output saturates at the same value.",
                fix=fix,
                evidence=evidence,
                strength=0.9,
            )
        return None
