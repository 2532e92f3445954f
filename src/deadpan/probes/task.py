"""The task (multiclass, binary, multilabel, regression) and how to turn outputs into predictions.

Framework-free: outputs and targets are NumPy arrays (a PyTorch caller converts its tensors with
:func:`~deadpan.probes.arrays.to_numpy`), so Keras on any backend is judged by the same code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from deadpan.evidence import Task
from deadpan.measures import balanced_accuracy, cross_entropy_skill, r2

#: ``cross_entropy_probs``: a categorical cross-entropy of probabilities (Keras' default, from_logits=False).
CLASS_LOSSES = ("cross_entropy", "cross_entropy_probs", "nll_loss", "multi_margin_loss")
BINARY_LOSSES = ("binary_cross_entropy", "binary_cross_entropy_with_logits", "soft_margin_loss")
MULTILABEL_LOSSES = ("multilabel_soft_margin_loss",)


#: ``ignore_index`` of PyTorch's class losses when none is passed: targets of this value count nowhere.
TORCH_IGNORE_INDEX = -100


def _floating(a: np.ndarray) -> bool:
    return a.dtype.kind == "f"


def infer_task(
    function: str | None, output: np.ndarray, target: np.ndarray, ignore_index: int | None = None
) -> Task:
    """Infer the task from the loss function, falling back on the target's dtype and the output width.
    Class ids per position (``[B, T]`` targets for ``[B, T, C]`` or ``[B, C, T]`` outputs) make a
    per-position task; ``ignore_index`` (the loss's) marks targets that count nowhere."""
    width = int(output.shape[-1]) if output.ndim >= 2 else 1
    integer_target = not _floating(target)
    if function in CLASS_LOSSES:
        if target.ndim == output.ndim and _floating(target):  # class probabilities as targets
            return Task("multiclass", width, width)
        positions = math.prod(target.shape[1:]) if target.ndim >= 2 and target.ndim == output.ndim - 1 else 1
        axis = class_axis(output, target)
        width = int(output.shape[axis]) if axis is not None else width
        n = max(width, int(target.max()) + 1 if target.size else width)
        if ignore_index is None and integer_target and bool((target == TORCH_IGNORE_INDEX).any()):
            ignore_index = TORCH_IGNORE_INDEX  # the loss's default: Hugging Face's padded labels use it
        return Task("multiclass", max(n, 2), width, positions=positions, ignore_index=ignore_index)
    if function in BINARY_LOSSES or function in MULTILABEL_LOSSES:
        if width > 1 and target.ndim >= 2 and target.shape[-1] == width:
            return Task("multilabel", width, width)
        return Task("binary", 2, width)
    if function in (None, "unknown") and integer_target:
        if width > 1:
            return Task("multiclass", max(width, int(target.max()) + 1), width)
        return Task("binary", 2, width)
    return Task("regression", None, width)


@dataclass(frozen=True)
class Predictions:
    """Predictions and targets as NumPy arrays in a common form for scoring."""

    pred: np.ndarray  # (n,) class ids, (n, k) 0/1 labels, or (n, k) regression values
    true: np.ndarray
    #: (n, k) class probabilities or regression outputs, for the spread ratio.
    soft: np.ndarray
    soft_true: np.ndarray


def class_axis(out: np.ndarray, target: np.ndarray) -> int | None:
    """The class axis of per-position outputs: 1 for ``(N, C, d1..)`` (PyTorch's layout for cross-entropy),
    -1 for ``(N, d1.., C)`` (a sequence model's logits) against ``(N, d1..)`` targets; None otherwise."""
    if out.ndim <= 2 or target.ndim != out.ndim - 1:
        return None
    if tuple(out.shape[2:]) == tuple(target.shape[1:]):
        return 1
    if tuple(out.shape[1:-1]) == tuple(target.shape[1:]):
        return -1
    return None


def _class_dim_last(out: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, C, d1..) or (N, d1.., C) outputs with (N, d1..) targets (sequence / segmentation) -> (N*d, C)
    and (N*d,)."""
    axis = class_axis(out, target)
    if axis is not None:
        c = out.shape[axis]
        return np.moveaxis(out, axis, -1).reshape(-1, c), target.reshape(-1)
    if out.ndim > 2:
        return out.reshape(out.shape[0], -1), target.reshape(target.shape[0], -1)
    return out, target


def softmax(a: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in ``a``'s precision."""
    e = np.exp(a - a.max(-1, keepdims=True))
    out: np.ndarray = e / e.sum(-1, keepdims=True)
    return out


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function, in ``a``'s precision (a large negative input gives 0, without a warning)."""
    with np.errstate(over="ignore"):
        out: np.ndarray = 1 / (1 + np.exp(-a))
    return out


def _rows_sum_to_one(o: np.ndarray) -> bool:
    """Every row of the (n, k) outputs sums to 1 (within 1e-3), its entries non-negative: probabilities."""
    return bool((o >= 0).all() and np.allclose(o.sum(-1), 1.0, rtol=1e-5, atol=1e-3))


def _class_ids(t: np.ndarray) -> np.ndarray:
    """Targets as int64 class ids (a float id truncated, as a cast does; NaN becomes a meaningless id)."""
    with np.errstate(invalid="ignore"):
        return t.astype(np.int64)


def predictions(task: Task, out: np.ndarray, target: np.ndarray) -> Predictions:
    out = np.asarray(out, dtype=np.float32)
    target = np.asarray(target)
    if task.kind == "multiclass":
        return _class_predictions(task, out, target)
    if task.kind in ("binary", "multilabel"):
        o = out.reshape(out.shape[0], -1)
        t = target.reshape(target.shape[0], -1).astype(np.float32)
        in_unit = bool((o >= 0).all() and (o <= 1).all())
        pt = o if in_unit else sigmoid(o)
        if task.kind == "binary":
            pt, t = pt[:, :1], t[:, :1]
        pred = (pt > 0.5).astype(np.int64)
        true = (t > 0.5).astype(np.int64)
        if task.kind == "binary":
            return Predictions(pred[:, 0], true[:, 0], pt, t)
        return Predictions(pred, true, pt, t)
    on = out.reshape(out.shape[0], -1).astype(np.float64)
    tn = target.reshape(target.shape[0], -1).astype(np.float32).astype(np.float64)
    if tn.shape[1] != on.shape[1] and on.shape[1] != 1 and tn.shape[1] == 1:
        on = on[:, :1]
    return Predictions(on, tn, on, tn)


def _class_predictions(task: Task, out: np.ndarray, target: np.ndarray) -> Predictions:
    """:func:`predictions` of a multiclass task: argmax classes, softmax (or the outputs, when they are
    probabilities already) over at least ``task.n_classes`` columns, one-hot targets."""
    o, t = _class_dim_last(out, target)
    if o.ndim == 1:
        o = o.reshape(-1, 1)
    soft = o if _rows_sum_to_one(o) else softmax(o)
    pred = o.argmax(-1)
    if t.ndim == o.ndim and _floating(t) and t.shape[-1] == o.shape[-1] > 1:
        true = t.argmax(-1)  # one-hot or probability rows
    else:
        true = _class_ids(t).reshape(-1)  # class ids, as (n,) or (n, 1)
    c = max(int(task.n_classes or o.shape[-1]), o.shape[-1])
    soft_np = np.zeros((len(true), c))
    soft_np[:, : o.shape[-1]] = soft
    if task.ignore_index is not None and len(true) == len(pred):  # padding counts nowhere
        kept = true != task.ignore_index
        pred, true, soft_np = pred[kept], true[kept], soft_np[kept]
    onehot = np.zeros((len(true), c))
    valid = (true >= 0) & (true < c)
    onehot[np.arange(len(true))[valid], true[valid]] = 1.0
    return Predictions(pred.astype(np.int64), true.astype(np.int64), soft_np, onehot)


def score(task: Task, p: Predictions) -> tuple[float, float]:
    """(score, chance score): balanced accuracy for classification, R^2 for regression, cross-entropy skill
    for classes per position (:func:`~deadpan.measures.cross_entropy_skill`: a language model's next token
    carries noise no model removes, so its accuracy stays low however well it learns, while its
    cross-entropy falls well below that of the input-independent answer, the unigram distribution)."""
    if task.kind == "regression":
        return r2(p.true, p.pred), 0.0
    if task.kind == "multiclass" and task.positions > 1:
        return cross_entropy_skill(p.true, p.soft), 0.0
    if task.kind == "multilabel":
        accs = [balanced_accuracy(p.true[:, k], p.pred[:, k]) for k in range(p.true.shape[1])]
        return float(np.mean(accs)), 0.5
    n = len(np.unique(p.true))
    return balanced_accuracy(p.true, p.pred), 1.0 / max(n, 1)
