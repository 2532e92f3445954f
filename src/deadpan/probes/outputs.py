"""Output probes: how constant the model's answer is and how good it is.

Framework-free: the outputs and targets are NumPy arrays (a PyTorch caller converts its tensors with
:func:`~deadpan.probes.arrays.to_numpy`); running a torch model to get them is :mod:`deadpan.probes.forward`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from deadpan.evidence import OutputProbe, Task
from deadpan.measures import rounded_score
from deadpan.probes.task import Predictions, predictions, score, sigmoid


def _distinct(task: Task, pred: np.ndarray, true: np.ndarray) -> tuple[int, float, int | None]:
    """Distinct predictions, majority share, majority class (None for regression)."""
    if task.kind == "regression":
        scale = float(np.nanstd(true)) or 1.0
        q = np.round(pred / (1e-3 * scale)).astype(np.float64)
        q = np.nan_to_num(q, nan=np.inf)
        _, counts = np.unique(q, axis=0, return_counts=True)
        return len(counts), float(counts.max() / len(q)), None
    if pred.ndim == 2:
        _, counts = np.unique(pred, axis=0, return_counts=True)
        return len(counts), float(counts.max() / len(pred)), None
    values, counts = np.unique(pred, return_counts=True)
    return len(values), float(counts.max() / len(pred)), int(values[counts.argmax()])


#: Classes and regression pairs an output probe keeps for the report's plots.
PLOT_CLASSES = 100
PLOT_PAIRS = 300


def _plot_data(
    task: Task, pred: np.ndarray, true: np.ndarray
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[float, float], ...]]:
    """Per-class prediction and target counts (single-label classification) or (prediction, target) pairs of
    the first output (regression), bounded, for the report's plots."""
    if task.kind == "regression" and len(pred) and pred.shape[0] == true.shape[0]:
        a = pred.reshape(len(pred), -1)[:PLOT_PAIRS, 0].astype(np.float64)
        b = true.reshape(len(true), -1)[:PLOT_PAIRS, 0].astype(np.float64)
        ok = np.isfinite(a) & np.isfinite(b)
        return (), (), tuple((float(x), float(y)) for x, y in zip(a[ok], b[ok], strict=True))
    if task.kind not in ("multiclass", "binary") or pred.ndim != 1 or true.ndim != 1 or not len(true):
        return (), (), ()
    if not (np.isfinite(true).all() and true.min() >= 0 and pred.min() >= 0):
        return (), (), ()
    k = min(PLOT_CLASSES, int(max(pred.max(), true.max())) + 1)
    pc = np.bincount(np.minimum(pred.astype(np.int64), k - 1), minlength=k)
    tc = np.bincount(np.minimum(true.astype(np.int64), k - 1), minlength=k)
    return tuple(int(v) for v in pc), tuple(int(v) for v in tc), ()


def _class_recall(task: Task, pred: np.ndarray, true: np.ndarray) -> tuple[float, ...]:
    """Per-class recall for single-label classification (NaN where a class has no target), else ()."""
    if task.kind not in ("multiclass", "binary") or pred.ndim != 1 or true.ndim != 1 or len(true) == 0:
        return ()
    if not (np.isfinite(true).all() and np.array_equal(true, np.round(true)) and true.min() >= 0):
        return ()
    labels = true.astype(np.int64)
    hits = pred.astype(np.int64) == labels
    total = np.bincount(labels)
    correct = np.bincount(labels, weights=hits.astype(np.float64), minlength=len(total))
    with np.errstate(invalid="ignore", divide="ignore"):
        return tuple(float(v) for v in np.where(total > 0, correct / np.maximum(total, 1), np.nan))


def _spread_ratio(p: Predictions) -> float:
    """Across-sample spread of the outputs relative to the targets' (0: the same output for every input)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        spread_true = np.nanstd(p.soft_true, axis=0)
        spread_out = np.nanstd(p.soft, axis=0)
    if spread_out.shape != spread_true.shape:  # e.g. one output column against several target columns
        spread_out, spread_true = (
            np.atleast_1d(np.nanmean(spread_out)),
            np.atleast_1d(np.nanmean(spread_true)),
        )
    ok = spread_true > 1e-12
    return float(np.mean(spread_out[ok] / spread_true[ok])) if ok.any() else 0.0


@dataclass(frozen=True)
class CollapseState:
    """What a live collapse check measured on one sample of outputs. ``output_spread_ratio`` is NaN where a
    classifier's many different answers settled the verdict before the spread was needed."""

    collapsed: bool
    distinct_predictions: int
    majority_share: float
    output_spread_ratio: float
    nonfinite_outputs: bool
    #: Judged by the spread alone (a regression's outputs), not by counting a classifier's answers.
    by_spread: bool = False


def _class_counts(task: Task, out: np.ndarray) -> tuple[int, float] | None:
    """Distinct answers and the majority's share of a single-label classifier's (N, C) or binary (N, 1)
    output; None for other outputs. The same answers as :func:`~deadpan.probes.task.predictions`
    (argmax over classes, or a probability, or the sigmoid of a logit, above 0.5), counted in Python from one
    small list: a live check runs between training steps, so the common case (a classifier answering in many
    ways) takes two array operations."""
    if task.kind == "multiclass" and out.ndim == 2 and out.shape[1] > 1:
        answers = out.argmax(1).tolist()
    elif task.kind == "binary" and out.ndim >= 1 and out.size == out.shape[0] > 0:
        o = out.reshape(-1)
        answers = ((o if float(o.min()) >= 0 and float(o.max()) <= 1 else sigmoid(o)) > 0.5).tolist()
    else:
        return None
    counts = Counter(answers)
    return len(counts), max(counts.values()) / len(answers)


def collapse_state(task: Task, out: np.ndarray, target: np.ndarray) -> CollapseState:
    """Whether ``out`` is collapsed, by the report's own rule (:func:`deadpan.diagnosis.is_collapsed` on
    :func:`output_probe`), at a fraction of the cost: a live check runs every few training steps, so a
    classifier's answers are counted first, and the spread and score are computed only when the majority
    share leaves the verdict open."""
    from deadpan.diagnosis import COLLAPSE_MAJORITY, is_collapsed

    if not np.isfinite(out).all():
        return CollapseState(True, 1, 1.0, 0.0, True)
    regression = task.kind == "regression"
    counted = None if regression else _class_counts(task, out)
    if counted is not None and counted[0] > 1 and counted[1] < COLLAPSE_MAJORITY:
        return CollapseState(False, counted[0], counted[1], float("nan"), False)
    p = predictions(task, out, target)
    distinct, share, _ = _distinct(task, p.pred, p.true)
    ratio = _spread_ratio(p)
    if not regression and distinct > 1 and share < COLLAPSE_MAJORITY:
        return CollapseState(False, distinct, share, ratio, False)
    if regression or distinct <= 1:
        collapsed = is_collapsed(_partial_probe(len(out), distinct, share, ratio), regression)
    else:  # a dominant answer: collapsed only when it also scores near chance
        collapsed = is_collapsed(output_probe(task, out, target), regression)
    return CollapseState(collapsed, distinct, share, ratio, False, by_spread=regression)


def _partial_probe(n: int, distinct: int, share: float, ratio: float) -> OutputProbe:
    """An output probe holding only what :func:`~deadpan.diagnosis.is_collapsed` reads without the score."""
    return OutputProbe(
        n_samples=n,
        distinct_predictions=distinct,
        majority_share=share,
        predicted_majority=None,
        output_spread_ratio=ratio,
        score=float("nan"),
        chance_score=float("nan"),
        nonfinite_outputs=False,
    )


def output_probe(task: Task, out: np.ndarray, target: np.ndarray) -> OutputProbe:
    nonfinite = not bool(np.isfinite(out).all())
    p = predictions(task, np.nan_to_num(out, nan=0.0, posinf=1e6, neginf=-1e6), target)
    distinct, share, majority = _distinct(task, p.pred, p.true)
    if nonfinite:
        distinct, share = 1, 1.0
    s, chance = score(task, p)
    ratio = 0.0 if nonfinite else _spread_ratio(p)
    o = out.reshape(out.shape[0], -1)
    finite = not nonfinite
    nonnegative = finite and bool((o >= 0).all())
    rows = bool(nonnegative and o.shape[1] >= 1 and np.allclose(o.sum(1), 1.0, rtol=1e-5, atol=1e-3))
    cols = bool(nonnegative and o.shape[0] > 1 and np.allclose(o.sum(0), 1.0, rtol=1e-5, atol=1e-3))
    predicted_counts, target_counts, pairs = _plot_data(task, p.pred, p.true)
    return OutputProbe(
        predicted_counts=predicted_counts,
        target_counts=target_counts,
        pairs=pairs,
        class_recall=_class_recall(task, p.pred, p.true),
        n_samples=int(out.shape[0]),
        distinct_predictions=int(distinct),
        majority_share=share,
        predicted_majority=majority,
        output_spread_ratio=ratio,
        score=float(s),
        chance_score=float(chance),
        nonfinite_outputs=nonfinite,
        outputs_in_unit_interval=bool(nonnegative and (o <= 1).all()),
        outputs_nonnegative=nonnegative,
        columns_sum_to_one=cols,
        rows_sum_to_one=rows,
        n_outputs=int(o.shape[1]),
        rounded_score=rounded_score(p.pred, p.true) if task.kind == "regression" and not nonfinite else None,
    )


#: Two samples count as the same answer when they differ by less than this share of the reference spread.
SAME_SAMPLE = 1e-2


def sample_diversity(
    samples: np.ndarray, reference: np.ndarray | None, scale: float | None = None
) -> OutputProbe:
    """Outputs without targets (a generator's samples for different noise, a batch's embeddings) as an
    output probe: ``output_spread_ratio`` is their across-sample spread (mean over features of the standard
    deviation) over ``scale`` when given, else over the reference data's, else over their own
    root-mean-square size; ``distinct_predictions`` and ``majority_share`` count outputs that differ by less
    than :data:`SAME_SAMPLE` of that scale as one. No score: how good the outputs are is not measured, only
    whether they differ."""
    s = np.asarray(samples, dtype=np.float32).reshape(len(samples), -1)
    nonfinite = not bool(np.isfinite(s).all())
    s = np.nan_to_num(s, nan=0.0, posinf=1e6, neginf=-1e6)
    # Sums in float64: samples all alike have a spread of exactly 0.
    spread = float(s.std(0, ddof=1, dtype=np.float64).mean()) if len(s) > 1 else 0.0
    ref = None
    if reference is not None and reference.size and math.prod(reference.shape[1:]) == s.shape[1]:
        r = np.asarray(reference, dtype=np.float32).reshape(len(reference), -1)
        ref = float(r.std(0, ddof=1, dtype=np.float64).mean()) if len(r) > 1 else None
    if scale is None:
        scale = ref if ref else float(np.sqrt(np.square(s, dtype=np.float64).mean()))
    ratio = spread / scale if scale > 1e-12 else 0.0
    keys = Counter(tuple(row) for row in np.round(s / max(scale * SAME_SAMPLE, 1e-12)).tolist())
    return OutputProbe(
        n_samples=len(s),
        distinct_predictions=1 if nonfinite else len(keys),
        majority_share=1.0 if nonfinite else max(keys.values()) / len(s),
        predicted_majority=None,
        output_spread_ratio=0.0 if nonfinite else ratio,
        score=float("nan"),
        chance_score=0.0,
        nonfinite_outputs=nonfinite,
        n_outputs=int(s.shape[1]),
    )
