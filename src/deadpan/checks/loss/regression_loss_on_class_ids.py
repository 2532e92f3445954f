"""DP305 regression-loss-on-class-ids."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import loss_name, misbehaving, symptom_evidence
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.measures import class_ids
from deadpan.phrasebook import framework_of, say

#: Regression losses.
REGRESSION_LOSSES = ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss")
#: Strength with one output unit (the class id regressed as a number; ordinal targets are sometimes meant so)
#: and with several output units (one unit per class, each regressing the id: certainly a classification).
STRENGTH_ONE_UNIT = 0.6
STRENGTH_SEVERAL_UNITS = 0.75
#: A model that is not misbehaving by its regression score still fails as a classifier when simple models,
#: given the ids as classes, beat its rounded outputs by this much balanced accuracy (0.3: three in ten
#: inputs of every class). An ordinal target that regression suits shows no such gap: a classifier ignores
#: the order and gains little over rounding a good regression.
CLASSIFIER_GAP = 0.3
#: That evidence is measured, not inferred from the symptom: a definite bug.
STRENGTH_CLASSIFIER_GAP = 0.9


def _class_ids(ev: Evidence) -> np.ndarray | None:
    """The distinct target values when they look like class ids, from the data sample else the loss range."""
    if ev.data is not None and np.size(ev.data.y) > 0:
        return class_ids(np.asarray(ev.data.y))
    loss = ev.loss
    if loss is None or not loss.target_is_integer:
        return None
    if not (np.isfinite(loss.target_min) and np.isfinite(loss.target_max)):
        return None
    return class_ids(np.arange(int(loss.target_min), int(loss.target_max) + 1, dtype=float))


def _classifier_gap(ev: Evidence) -> tuple[float, float] | None:
    """(simple classifiers' balanced accuracy on the ids as classes, the network's rounded outputs' on
    held-out data, else on the probe batch), when both were measured."""
    learn = ev.probes.learnability
    out = ev.probes.heldout_output or ev.probes.train_output
    if learn is None or out is None or learn.class_id_score is None or out.rounded_score is None:
        return None
    return learn.class_id_score, out.rounded_score


@register
class RegressionLossOnClassIds(Check):
    """A regression loss trained on class ids: a classification problem solved as regression.

    What it detects:
        ``MSELoss`` / ``L1Loss`` / ``SmoothL1Loss`` / ``HuberLoss`` on integer targets with a handful of
        distinct values (3 to 50, nearly contiguous, like class ids 0..C-1), while the model scores poorly,
        or while its outputs rounded to the nearest id classify far worse than simple classifiers do on the
        same inputs (a regression that fits the ids' mean trend well can still be a poor classifier).

    Why it makes the output constant:
        A regression loss treats class 2 as "between" classes 1 and 3 and penalises a wrong guess by how far
        the ids are apart. When the classes are not ordered along the inputs the cheapest answer is the mean
        class id, so the model predicts (nearly) the same number for every input, which rounds to one class.

    Fix:
        Give the last layer C output units (``nn.Linear(hidden, C)``), use ``nn.CrossEntropyLoss()`` with the
        integer targets (``loss_fn(out, y.long())``) and predict with ``out.argmax(dim=1)``.
    """

    code = "DP305"
    name = "regression-loss-on-class-ids"
    category = "loss.mismatch"
    requires = ("loss",)

    def judge(self, ev: Evidence) -> Finding | None:
        loss = ev.loss
        assert loss is not None
        if loss.function not in REGRESSION_LOSSES:
            return None
        ids = _class_ids(ev)
        if ids is None:
            return None
        gap = _classifier_gap(ev)
        fails_as_classifier = gap is not None and gap[0] - gap[1] >= CLASSIFIER_GAP
        if not misbehaving(ev) and not fails_as_classifier:
            return None
        n_classes = len(ids)
        units = loss.input_shape[-1] if len(loss.input_shape) >= 2 else 1
        several = units > 1
        cls = say("loss", framework_of(ev), loss_fn=loss.function, loss=loss_name(ev))
        change = Change(
            "classify_class_ids",
            what="loss",
            current=loss.function,
            params={"n_classes": n_classes, "shift": float(ids[0]) if ids[0] != 0 else None},
        )
        if fails_as_classifier and gap is not None:
            poorly = (
                f"read as classes its outputs are poor: rounded to the nearest id they reach a balanced "
                f"accuracy of {gap[1]:.2f}, while simple classifiers on the same inputs reach {gap[0]:.2f}"
            )
            strength = STRENGTH_CLASSIFIER_GAP
        else:
            poorly = "the model scores poorly"
            strength = STRENGTH_SEVERAL_UNITS if several else STRENGTH_ONE_UNIT
        gap_evidence = {"rounded_score": gap[1], "classifier_score": gap[0]} if gap is not None else {}
        return self.finding(
            ev,
            message=f"`{cls}` is trained on integer targets with only {n_classes} distinct values "
            f"({ids[0]:g}..{ids[-1]:g}), which look like class ids, and {poorly}: a regression loss on "
            "class ids is minimised by predicting the mean id for every input.",
            change=change,
            evidence={
                "loss": loss.function,
                "distinct_targets": n_classes,
                "target_min": float(ids[0]),
                "target_max": float(ids[-1]),
                "output_units": units,
                **gap_evidence,
                **symptom_evidence(ev),
            },
            strength=strength,
        )
