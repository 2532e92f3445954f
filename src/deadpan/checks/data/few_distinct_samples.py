"""DP115 few-distinct-samples."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import (
    EXTREME_IMBALANCE_RATIO,
    class_labels,
    misbehaving,
    numeric,
    poor_score,
    probe_misbehaves,
    rows,
    symptom_evidence,
)
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: Share of distinct input rows in the training sample below which the data is mostly repeats of a few samples
#: (each distinct sample seen 20+ times in the sample) ...
DISTINCT_SHARE = 0.05
#: ... judged only on samples at least this large (smaller samples are noisy) ...
MIN_SAMPLES = 100
#: ... and only when the distinct examples are also few in absolute terms. The sample spans every epoch, so
#: a normal small dataset trained for many epochs also repeats each example often; a few dozen distinct
#: examples is too few to learn anything general whatever the epochs.
MAX_DISTINCT = 50
#: Fewer distinct samples than this many per class cannot show the network what separates the classes
#: (a single example per class at best) ...
MIN_DISTINCT_PER_CLASS = 2
#: ... judged only when the sample could hold several per class.
MIN_SAMPLES_PER_CLASS = 4
#: A whole data set smaller than this many distinct examples per class is too small to learn the classes
#: from (the common rule of thumb of "at least ~10 examples per class"; learning curves of small networks on
#: tabular data are steep below it) ...
MIN_EXAMPLES_PER_CLASS = 10
#: ... or, for regression and multi-label targets, this many per input feature (the "one in ten" rule for
#: regression models, Harrell, *Regression Modeling Strategies*).
MIN_EXAMPLES_PER_FEATURE = 10
#: The per-class rule also holds for one class (a class with fewer than 10 examples cannot be learnt) while
#: the largest class holds fewer than ``EXTREME_IMBALANCE_RATIO`` (19, DP101's extreme imbalance, shared in
#: :mod:`deadpan.checks.symptoms`) times its rows; a class rarer than that is starved by an imbalance,
#: DP101's finding.
#: The distinct count is the data set's size only when the sample spans it: each distinct example appears
#: in the sample at least this many times on average (the training went over the data repeatedly).
MIN_REPEATS = 2.0
#: For a small data set: the held-out normalised score trails the training one by at least this much.
GENERALISATION_GAP = 0.1
#: Strength when the output misbehaves, and when no output was probed.
STRENGTH_SYMPTOM = 0.65
STRENGTH_UNPROBED = 0.3


@register
class FewDistinctSamples(Check):
    """The training data holds very few distinct examples, repeated many times.

    What it detects:
        The sampled training inputs contain few distinct rows: under 5% of a sample of 100 or more and fewer
        than 50 in all, or fewer than two per class, or a whole data set (the sample repeats every example)
        of fewer than 10 examples per class, or a class with fewer than 10 (10 per input feature for
        regression), while the batches
        themselves differ (one repeated batch is a loop bug, judged by the training-loop checks). Gated on
        the symptom: silent when the model does well on the training and held-out probes (for a small data
        set: unless the held-out score trails the training score).

    Why it makes the output constant:
        With a handful of distinct inputs the network has almost nothing to learn a general mapping from: the
        loss is minimised by memorising those few points or, more often with a small learning signal, by the
        average answer, which is then given for every new input.

    Fix:
        Use more distinct training data: check that the dataset is not a few samples repeated (a
        ``Subset``/slice left from debugging, ``dataset * k``), remove duplicates, and add augmentation
        (``transforms.RandomCrop``, ``RandomHorizontalFlip``, noise) so that repeated samples differ.
    """

    code = "DP115"
    name = "few-distinct-samples"
    category = "data.diversity"
    requires = ("data",)

    def judge(self, ev: Evidence) -> Finding | None:
        data = ev.data
        assert data is not None
        if data.distinct_batches is not None and data.distinct_batches <= 1:
            return None  # one batch repeated every step: the loop check's finding
        if not numeric(data.x):
            return None
        x = rows(data.x)
        finite = np.isfinite(x).all(axis=1)
        labels = class_labels(ev, data.y)
        rarest = (
            _rarest_class(x[finite], labels[finite]) if labels is not None and len(labels) == len(x) else None
        )
        x = x[finite]
        n = len(x)
        if n < 2:
            return None
        distinct = len(np.unique(x, axis=0))
        if distinct <= 1:
            return None  # constant inputs are DP110's finding
        n_classes = (
            ev.task.n_classes if ev.task is not None and ev.task.kind in ("multiclass", "binary") else None
        )
        few = _few(ev, int(x.shape[1]), n, distinct, n_classes, rarest)
        if few is None:
            return None
        small_set, small_class, needed = few
        probes = [p for p in (ev.probes.train_output, ev.probes.heldout_output) if p is not None]
        if probes and not (
            misbehaving(ev)
            or any(probe_misbehaves(p, poor_score(ev)) for p in probes)
            or _overfits(ev, small_set)
        ):
            return None
        per = f" ({distinct / n_classes:.2g} per class)" if n_classes else ""
        if small_class and distinct >= needed and rarest is not None:
            per = f", class {rarest[0]} only {rarest[1]}"
        evidence: dict[str, object] = {
            "n_samples": n,
            "distinct_samples": distinct,
            "distinct_share": distinct / n,
            "n_classes": n_classes,
            "distinct_needed": needed,
            "rarest_class": None if rarest is None else {"class": rarest[0], "distinct_samples": rarest[1]},
            "dataset_size": data.dataset_size,
            "distinct_batches": data.distinct_batches,
            **symptom_evidence(ev),
        }
        if ev.probes.heldout_output is not None:
            evidence["heldout_normalized_score"] = ev.probes.heldout_output.normalized_score
        return self.finding(
            ev,
            message=_message(n, distinct, per),
            change=Change(
                "more_distinct_data", what="training data", current=distinct, params={"needed": needed}
            ),
            evidence=evidence,
            strength=STRENGTH_SYMPTOM if probes else STRENGTH_UNPROBED,
            severity=Severity.ERROR if probes else Severity.WARNING,
        )


def _few(
    ev: Evidence,
    features: int,
    n: int,
    distinct: int,
    n_classes: int | None,
    rarest: tuple[int, int, int, int] | None,
) -> tuple[bool, bool, int] | None:
    """(a small data set, a class with too few examples in it, the distinct examples needed) when the sample
    of ``n`` rows holds too few distinct ones by any of the rules; None when it holds enough."""
    data = ev.data
    assert data is not None
    low_share = n >= MIN_SAMPLES and distinct / n < DISTINCT_SHARE and distinct < MAX_DISTINCT
    per_class = (
        n_classes is not None
        and n >= MIN_SAMPLES_PER_CLASS * n_classes
        and distinct < MIN_DISTINCT_PER_CLASS * n_classes
    )
    # A small data set: the sample went over every example several times and there are too few of them.
    # Keras' ``fit`` on arrays tells the data set's size, and a sample as large holds all of it.
    spans_data = distinct * MIN_REPEATS <= n or (data.dataset_size is not None and n >= data.dataset_size)
    if n_classes is not None:
        needed = MIN_EXAMPLES_PER_CLASS * n_classes
    else:
        needed = MIN_EXAMPLES_PER_FEATURE * features
    # The rule of thumb holds per class: a class with a handful of examples cannot be learnt, however
    # many the others have (a 9:1 binary set of 40 examples holds 4 of the rare class).
    # ... unless that class is rare next to the largest one: a starved class is an imbalance, DP101's.
    small_class = (
        spans_data
        and rarest is not None
        and rarest[1] < MIN_EXAMPLES_PER_CLASS
        and rarest[2] * EXTREME_IMBALANCE_RATIO > rarest[3]
    )
    small_set = spans_data and (distinct < needed or small_class)
    if not (low_share or per_class or small_set):
        return None
    return small_set, small_class, needed


def _overfits(ev: Evidence, small_set: bool) -> bool:
    """Too little data shows as a model that fits what it saw but not new inputs: for a small data set, the
    held-out normalised score trails the training one by ``GENERALISATION_GAP`` or more."""
    train, held = ev.probes.train_output, ev.probes.heldout_output
    return (
        small_set
        and train is not None
        and held is not None
        and train.normalized_score - held.normalized_score >= GENERALISATION_GAP
    )


def _message(n: int, distinct: int, per: str) -> str:
    if distinct == n:
        return (
            f"the training set holds only {n} examples{per}: too few for the network to learn anything "
            "general from."
        )
    return (
        f"the training sample of {n} inputs holds only {distinct} distinct examples{per}: the "
        "network sees the same few points over and over and has nothing general to learn."
    )


def _rarest_class(x: np.ndarray, labels: np.ndarray) -> tuple[int, int, int, int] | None:
    """The class with the fewest distinct inputs among those present, that count, and the sample rows of
    that class and of the largest class."""
    present, rows_per_class = np.unique(labels, return_counts=True)
    if len(present) < 2:
        return None
    counts = [
        (int(c), len(np.unique(x[labels == c], axis=0)), int(r))
        for c, r in zip(present, rows_per_class, strict=True)
    ]
    c, distinct, rows_ = min(counts, key=lambda t: t[1])
    return c, distinct, rows_, int(rows_per_class.max())
