"""DP102 no-learnable-signal."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import (
    LEARNABILITY_MIN_SAMPLES,
    NO_SIGNAL_GAP,
    class_labels,
    extreme_imbalance,
    no_signal_bar,
    numeric,
    probe_misbehaves,
    rows,
    symptom_evidence,
)
from deadpan.evidence import Evidence, LearnabilityProbe
from deadpan.findings import Change, Finding, Severity

# The no-signal bar (NO_SIGNAL_GAP, raised to the sampling noise on a small sample) and the fewest samples
# judged (LEARNABILITY_MIN_SAMPLES) live in deadpan.checks.symptoms: DP510 stays silent on the same bar.
#: Gap at or below which the signal is indistinguishable from none at all: full strength.
ZERO_GAP = 0.02
#: Gap below which the signal is weak enough to mention (warning, low strength).
WEAK_SIGNAL_GAP = 0.1
#: Signal that is there but weak: the best simple model recovers less than this share of the way from chance
#: to perfect (balanced accuracy under 0.64 for two classes, under 0.46 for ten). Noisy sensors and noisy
#: labels cap what any model learns from the data; when the network misbehaves too, the data is the first
#: suspect. Clean data sits far above it (scikit-learn's digits: 0.91 with the probe's linear model).
LOW_CEILING = 0.4
#: ... judged only on this many probe samples or more: on fewer, the simple models' cross-validated score is
#: held down by the sample's size itself (their learning curves are not flat yet: 120 samples of 20 features
#: with a 79%-accurate feature give a linear model 0.69), so a low score says "small data", the overfitting
#: DP520 and DP115 speak to, not "weak signal".
LOW_CEILING_MIN_SAMPLES = 500
#: Strong enough to rank above the symptoms weak signal produces (a training loss still falling as the
#: network memorises noise, a held-out gap), below the definite bugs.
STRENGTH_LOW_CEILING = 0.55

#: The fixes: pair inputs and labels again (no signal), or clean noisy labels and inputs (weak signal).
PAIR = Change("pair_inputs_and_labels", what="labels")
CLEAN = Change("clean_noisy_labels", what="labels")


@register
class NoLearnableSignal(Check):
    """The targets cannot be predicted from the inputs: simple models do no better than on shuffled labels.

    What it detects:
        The learnability probe fits a linear and a non-linear scikit-learn model on the captured inputs with
        cross-validation and compares the better of the two with the same models trained on permuted labels.
        The check fires when the real pairing scores no better than the permuted one (normalized gap < 5%;
        a warning below 10%). On small samples the bar rises to the scores' sampling noise
        (``LearnabilityProbe.noise_gap``: 0.32 for 80 samples of two classes), so a lucky CV split of
        random labels does not pass for signal. Multi-label targets are scored per label (mean balanced
        accuracy over labels, as the network's score is); token ids (an ``Embedding``'s integer inputs) are
        also read as bag-of-tokens counts, since a raw id is a name, not a quantity.

    Why it makes the output constant:
        When the inputs carry no information about the targets (random inputs or labels, or inputs and labels
        shuffled apart), the loss is minimised by the input-independent answer: the class prior or the target
        mean. Gradient descent finds exactly that and the network answers the same for every input.

    Fix:
        Check that inputs and labels stay paired: shuffle them together with one index
        (``perm = torch.randperm(n); x, y = x[perm], y[perm]``, or a ``TensorDataset`` with
        ``DataLoader(shuffle=True)``), that the label column is the right one, and that the features really
        carry information about the target.
    """

    code = "DP102"
    name = "no-learnable-signal"
    category = "data.no_signal"
    requires = ("probes.learnability",)

    def judge(self, ev: Evidence) -> Finding | None:
        lp = ev.probes.learnability
        assert lp is not None
        if lp.n_samples < LEARNABILITY_MIN_SAMPLES:
            return None
        scores = (lp.linear_score, lp.nonlinear_score, lp.permuted_score)
        if not all(np.isfinite(s) for s in scores):
            return None
        if ev.data is not None and numeric(ev.data.y):
            y = rows(ev.data.y)
            y = y[np.isfinite(y).all(axis=1)]
            if len(y) and len(np.unique(y, axis=0)) <= 1:
                return None  # a single target value is DP103's finding
        best = max(lp.linear_score, lp.nonlinear_score)
        gap = lp.signal_gap()
        # On a small sample the CV scores are noisy: a gap within that noise is no evidence of signal.
        no_signal = no_signal_bar(lp)
        weak = max(WEAK_SIGNAL_GAP, no_signal + (WEAK_SIGNAL_GAP - NO_SIGNAL_GAP))
        if gap >= weak:
            return self._low_ceiling(ev, lp, best)
        weak_and_failing = _weak_and_failing(ev, lp, best)
        evidence = {
            "metric": lp.metric,
            "linear_score": lp.linear_score,
            "nonlinear_score": lp.nonlinear_score,
            "permuted_score": lp.permuted_score,
            "chance_score": lp.chance_score,
            "normalized_gap": gap,
            "noise_gap": no_signal,
            "n_samples": lp.n_samples,
            "labels": lp.labels,
            "token_counts": lp.token_counts,
        }
        metric = _scored(lp)
        if gap >= no_signal:
            return self.finding(
                ev,
                message=f"the inputs carry little signal about the targets: the best simple model scores "
                f"{metric} {best:.3g} vs {lp.permuted_score:.3g} with shuffled labels (gap {gap:.1%} of "
                "chance-to-perfect), so the input-independent answer is nearly as good as any.",
                change=PAIR,
                evidence=evidence,
                # As strong as a low ceiling's finding when the network fails too: the same weak signal.
                strength=STRENGTH_LOW_CEILING if weak_and_failing else 0.4,
                severity=Severity.WARNING,
            )
        # 0.85 at a gap of ZERO_GAP or less, falling to 0.6 at the no-signal bar.
        frac = (max(gap, ZERO_GAP) - ZERO_GAP) / (no_signal - ZERO_GAP)
        return self.finding(
            ev,
            message=f"the targets cannot be predicted from these inputs: the best simple model scores "
            f"{metric} {best:.3g}, no better than {lp.permuted_score:.3g} with shuffled labels. Random "
            "inputs or labels, or inputs and targets shuffled apart, leave the network nothing to learn but "
            "the input-independent answer.",
            change=PAIR,
            evidence=evidence,
            strength=0.85 - 0.25 * frac,
        )

    def _low_ceiling(self, ev: Evidence, lp: LearnabilityProbe, best: float) -> Finding | None:
        """Signal, but weak: the simple models stay far from perfect and the network does poorly too (not for
        next tokens: an n-gram table's skill on real text is low whatever the labels' quality)."""
        if lp.per_position or not _weak_and_failing(ev, lp, best):
            return None
        ceiling = lp.normalized(best)
        noisy = "noisy labels (mislabelled examples)" if lp.metric != "r2" else "noisy targets"
        return self.finding(
            ev,
            message=f"the inputs carry only weak signal about the targets: the best simple model scores "
            f"{lp.metric} {best:.3g} (chance {lp.chance_score:.3g}), {ceiling:.0%} of the way from chance to "
            f"perfect. Noisy inputs or {noisy} cap what any model can learn from this data; a training loss "
            "that keeps falling then is the network memorising the noise.",
            change=CLEAN,
            evidence={
                "metric": lp.metric,
                "linear_score": lp.linear_score,
                "nonlinear_score": lp.nonlinear_score,
                "permuted_score": lp.permuted_score,
                "chance_score": lp.chance_score,
                "normalized_ceiling": ceiling,
                "low_ceiling": LOW_CEILING,
                "n_samples": lp.n_samples,
                **symptom_evidence(ev),
            },
            strength=STRENGTH_LOW_CEILING,
            severity=Severity.WARNING,
        )


def _scored(lp: LearnabilityProbe) -> str:
    """What was scored, named where it is not one plain score: the mean over the labels of a multi-label
    target, and token ids also read as bag-of-tokens counts."""
    metric = f"mean {lp.metric} over {lp.labels} labels" if lp.labels > 1 else lp.metric
    if lp.token_counts:
        metric += " (token ids also as bag-of-tokens counts)"
    return metric


def _weak_and_failing(ev: Evidence, lp: LearnabilityProbe, best: float) -> bool:
    """The best simple model stays under ``LOW_CEILING`` on enough samples to trust it, the network
    misbehaves on its training or held-out probe, and no extreme imbalance explains the low balanced score."""
    if lp.normalized(best) >= LOW_CEILING or lp.n_samples < LOW_CEILING_MIN_SAMPLES:
        return False
    probes = [p for p in (ev.probes.train_output, ev.probes.heldout_output) if p is not None]
    if not any(probe_misbehaves(p) for p in probes):
        return False
    return not _extreme_imbalance(ev)


def _extreme_imbalance(ev: Evidence) -> bool:
    """DP101's extreme imbalance (19:1) in the training targets. The probe's models are class-weighted, so a
    moderate imbalance does not lower their balanced score; a starved class does (a handful of examples to
    learn it from)."""
    if ev.data is None:
        return False
    labels = class_labels(ev, ev.data.y)
    return labels is not None and len(labels) > 0 and extreme_imbalance(np.bincount(labels))
