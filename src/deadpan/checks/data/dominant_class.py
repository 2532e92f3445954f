"""DP101 dominant-class."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import class_labels, extreme_imbalance, misbehaving
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: Share of the training targets above which one class dominates a binary / few-class problem: predicting it
#: for every input already scores this accuracy, a deep local minimum plain cross-entropy readily settles in
#: (rule of thumb for "severe" imbalance, He & Garcia 2009, "Learning from Imbalanced Data": 3:1 and worse).
DOMINANT_SHARE = 0.75
#: With many classes a class dominates when it holds this many times the uniform share 1/C ...
DOMINANCE_RATIO = 3.0
#: ... but never below half of the data (a 20% class among 10 is common and rarely the cause on its own).
MANY_CLASS_FLOOR = 0.5
#: The model "piles on" the dominant class when it predicts it for at least this share of the probe batch,
#: and for more than this share of the rest: it gives the majority answer to over half the inputs that are
#: not of the majority class (a good classifier on 9:1 data predicts the majority ~90% of the time, the
#: share the data holds, without piling on it) ...
PILED_SHARE = 0.9
PILED_SHARE_OF_REST = 0.5
#: ... or predicts it most while recovering less than this of the gap between chance and perfect.
LOW_NORMALIZED_SCORE = 0.3
#: A moderate imbalance (short of :func:`deadpan.checks.symptoms.extreme_imbalance`: the largest class under
#: 19 times the rarest, a 95% majority of two) on data where a class-weighted simple model recovers at least
#: this share of the chance-to-perfect balanced accuracy (the learnability probe) rarely holds a network on
#: the majority class by itself: networks learn such data at 9:1 without weights. The finding then stays,
#: weaker, below the other findings.
SEPARABLE_SCORE = 0.5
STRENGTH_SEPARABLE = 0.45
#: A model that does not pile on the majority class but favours it: its recall on the dominant class exceeds
#: its mean recall on the other classes by this much (the rare classes are learnt worst), while the model
#: misbehaves. A warning: the answer is not one class for every input.
FAVOURED_RECALL_GAP = 0.3
STRENGTH_FAVOURED = 0.6
#: Up to this many classes the fix spells the weight tensor out.
MAX_CLASSES_SPELLED = 10


def dominance_threshold(n_classes: int) -> float:
    """The share one class needs to count as dominant among ``n_classes``."""
    return min(DOMINANT_SHARE, max(MANY_CLASS_FLOOR, DOMINANCE_RATIO / max(n_classes, 1)))


@register
class DominantClass(Check):
    """One class dominates the training targets and the model predicts it for (nearly) every input.

    What it detects:
        Classification targets where one class holds at least 75% of the samples (with many classes: at least
        max(50%, 3/C)), while the trained model predicts that class for at least 90% of the probe batch and
        for more than half of the inputs of the other classes, or scores little above chance. At a moderate
        imbalance (the largest class under 19 times the rarest: a 95% majority of two) on data a
        class-weighted simple model separates well (the learnability probe recovers half the
        chance-to-perfect balanced accuracy or more) the finding is a weak warning: such
        data is learnt without weights, so a collapse there usually has another cause.

    Why it makes the output constant:
        Predicting the majority class for every input already reaches that class's share in accuracy and a low
        cross-entropy. Early in training the gradient from the dominant class outweighs the rest, so the model
        learns the class prior first and, with an unweighted loss, often never leaves it: one answer for
        every input.

    Fix:
        Weight the loss by inverse class frequency (``nn.CrossEntropyLoss(weight=torch.tensor([...]))``, or
        ``pos_weight`` for ``nn.BCEWithLogitsLoss``), or oversample the rare classes with
        ``torch.utils.data.WeightedRandomSampler``.
    """

    code = "DP101"
    name = "dominant-class"
    category = "data.imbalance"
    requires = ("data", "task", "probes.train_output")

    def judge(self, ev: Evidence) -> Finding | None:
        assert ev.data is not None and ev.task is not None and ev.probes.train_output is not None
        out = ev.probes.train_output
        labels = class_labels(ev, ev.data.y)
        if labels is None or len(labels) < 2:
            return None
        n_classes = max(int(labels.max()) + 1, ev.task.n_classes or 0, 2)
        counts = np.bincount(labels, minlength=n_classes)
        if np.count_nonzero(counts) < 2:
            return None  # a single target value is DP103's finding
        dominant = int(np.argmax(counts))
        n = int(counts.sum())
        share = float(counts[dominant]) / n
        threshold = dominance_threshold(n_classes)
        if share < threshold:
            return None
        over_predicted = out.majority_share >= share + PILED_SHARE_OF_REST * (1.0 - share)
        piled = (
            out.majority_share >= PILED_SHARE and over_predicted
        ) or out.normalized_score < LOW_NORMALIZED_SCORE
        favoured = _favoured(out.class_recall, dominant) if not piled else None
        if out.predicted_majority != dominant or not (piled or (favoured is not None and misbehaving(ev))):
            return None
        return self._report(ev, counts, dominant, threshold, favoured)

    def _report(
        self,
        ev: Evidence,
        counts: np.ndarray,
        dominant: int,
        threshold: float,
        favoured: tuple[float, float] | None,
    ) -> Finding:
        """The finding for a dominant class the model settled on (or favours): weight the classes."""
        out = ev.probes.train_output
        assert out is not None
        n_classes, n = len(counts), int(counts.sum())
        share = float(counts[dominant]) / n
        # sklearn's class_weight="balanced": n / (C * n_c); absent classes counted once to stay finite.
        class_weight = n / (n_classes * np.maximum(counts, 1))
        weighted = ev.loss is not None and ev.loss.has_class_weights
        learn = ev.probes.learnability
        separable = (
            learn is not None
            and learn.metric == "balanced_accuracy"
            and not extreme_imbalance(counts)
            and learn.normalized(max(learn.linear_score, learn.nonlinear_score)) >= SEPARABLE_SCORE
        )
        message = _message(dominant, share, out.majority_share, favoured)
        evidence: dict[str, object] = {
            "dominant_class": dominant,
            "dominant_share": share,
            "dominance_threshold": threshold,
            "class_counts": [int(c) for c in counts[: MAX_CLASSES_SPELLED * 10]],
            "predicted_majority": out.predicted_majority,
            "predicted_majority_share": out.majority_share,
            "normalized_score": out.normalized_score,
            "has_class_weights": weighted,
            "suggested_class_weight": [float(w) for w in class_weight[: MAX_CLASSES_SPELLED * 10]],
        }
        if favoured is not None:
            evidence["dominant_recall"], evidence["other_classes_recall"] = favoured
        if separable and not weighted:
            assert learn is not None
            best = max(learn.linear_score, learn.nonlinear_score)
            evidence["simple_model_balanced_accuracy"] = best
            message += (
                " Yet a class-weighted simple model on the same inputs reaches balanced accuracy "
                f"{best:.2f}: at this moderate imbalance the classes are learnable, so the imbalance alone "
                "rarely holds a network on the majority class; look first at the other findings."
            )
            mode, strength, severity = "separable", STRENGTH_SEPARABLE, Severity.WARNING
        elif weighted:
            mode, strength, severity = "weighted", 0.4, Severity.WARNING
        else:
            mode = "plain"
            strength = 0.7 + 0.15 * min(1.0, (share - threshold) / max(1.0 - threshold, 1e-12))
            severity = Severity.ERROR
            if favoured is not None:
                strength, severity = STRENGTH_FAVOURED, Severity.WARNING
        change = _change(ev, counts, class_weight, dominant, mode)
        return self.finding(
            ev, message=message, change=change, evidence=evidence, strength=strength, severity=severity
        )


def _message(
    dominant: int, share: float, predicted_share: float, favoured: tuple[float, float] | None
) -> str:
    """What the model does with the dominant class: favours it (recalls it best), or predicts it for most
    inputs."""
    if favoured is not None:
        return (
            f"class {dominant} makes up {share:.0%} of the training targets and the model favours it: "
            f"recall {favoured[0]:.2f} on it, {favoured[1]:.2f} on average on the other classes, which "
            "it learnt from too few examples to tell apart."
        )
    return (
        f"class {dominant} makes up {share:.0%} of the training targets and the model predicts it "
        f"for {predicted_share:.0%} of the inputs: it has settled on the majority class, which "
        f"already scores {share:.0%} accuracy without looking at the input."
    )


def _change(ev: Evidence, counts: np.ndarray, class_weight: np.ndarray, dominant: int, mode: str) -> Change:
    """Weight the classes by inverse frequency: the weights, spelled out for up to ``MAX_CLASSES_SPELLED``
    classes, and the positive class's weight for a binary loss."""
    n_classes = len(counts)
    pos_weight = float(counts[0]) / max(float(counts[1]), 1.0) if n_classes == 2 else 1.0
    spelled = [float(w) for w in class_weight] if n_classes <= MAX_CLASSES_SPELLED else None
    return Change(
        "weight_classes",
        what="class_weight",
        proposed=spelled,
        params={
            "mode": mode,
            "kind": ev.task.kind if ev.task is not None else "unknown",
            "loss_fn": ev.loss.function if ev.loss is not None else "",
            "dominant": dominant,
            "dominant_weight": float(class_weight[dominant]),
            "pos_weight": pos_weight,
        },
    )


def _favoured(recall: tuple[float, ...], dominant: int) -> tuple[float, float] | None:
    """(recall on the dominant class, mean recall on the others) when the first beats the second by
    ``FAVOURED_RECALL_GAP`` or more; None otherwise or without per-class recall."""
    r = np.asarray(recall, dtype=float)
    if dominant >= len(r) or not np.isfinite(r[dominant]):
        return None
    rest = np.delete(r, dominant)
    rest = rest[np.isfinite(rest)]
    if not len(rest):
        return None
    top, others = float(r[dominant]), float(rest.mean())
    return (top, others) if top - others >= FAVOURED_RECALL_GAP else None
