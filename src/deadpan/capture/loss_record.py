"""The user's first training loss call as recorded, and as the checks read it (:class:`LossCall`).

Framework-free: a PyTorch recorder keeps the call's tensors, a Keras run NumPy arrays of its outputs and
targets; both are read as arrays here (:func:`~deadpan.probes.arrays.to_numpy`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from deadpan.evidence import LossCall, Task
from deadpan.probes.arrays import is_tensor, to_numpy


@dataclass
class LossRecord:
    """The first training loss call, summarised, and how often the function was called."""

    function: str
    #: The loss input and target (torch tensors, or NumPy arrays for Keras).
    input: Any
    target: Any
    kwargs: dict[str, Any]
    calls: int = 0
    #: The loss input is the model's output tensor itself (no transform between model and loss).
    input_is_model_output: bool = False
    #: Rows of the loss input per row of the model's batch: a sequence model's ``[B, T, V]`` logits flattened
    #: to ``[B*T, V]`` with its ``[B, T]`` targets to ``[B*T]`` (the usual language-model loss) is T; 1 when
    #: the loss takes one row per sample.
    fold: int = 1


ELEMENTWISE = (
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "soft_margin_loss",
)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """``log(sum(exp(a)))`` along ``axis`` (finite ``a``), in ``a``'s precision."""
    m = a.max(axis, keepdims=True)
    out: np.ndarray = (m + np.log(np.exp(a - m).sum(axis, keepdims=True))).squeeze(axis)
    return out


def _close(a: np.ndarray, value: float) -> bool:
    """Every element of ``a`` within 1e-3 of ``value`` (``torch.allclose``'s test, with its ``rtol``)."""
    return bool(np.allclose(a, value, rtol=1e-5, atol=1e-3))


def _log_normalised(inp: np.ndarray) -> tuple[bool, bool]:
    """Whether the (n, c, ...) loss input is log-probabilities per row (what ``nll_loss`` wants), and whether
    per column instead (a log-softmax over dim=0)."""
    nonpos = bool((inp <= 1e-3).all())
    return nonpos and _close(_logsumexp(inp, 1), 0.0), nonpos and _close(_logsumexp(inp, 0), 0.0)


def loss_call(loss: LossRecord) -> LossCall:
    inp, tgt = to_numpy(loss.input).astype(np.float32), to_numpy(loss.target)
    all_finite = bool(np.isfinite(inp).all())
    finite = inp[np.isfinite(inp)]
    probs = bool(
        inp.ndim >= 2
        and inp.shape[-1] >= 1
        and all_finite
        and bool((inp >= 0).all())
        and _close(inp.sum(-1), 1.0)
    )
    # NLLLoss wants log-probabilities per row; log-normalised columns instead is a log-softmax over dim=0.
    rows_log = cols_log = None
    if loss.function == "nll_loss" and inp.ndim >= 2 and inp.shape[0] > 1 and all_finite:
        rows_log, cols_log = _log_normalised(inp)
    broadcast = None
    if loss.function in ELEMENTWISE:
        try:
            shape = tuple(int(s) for s in np.broadcast_shapes(inp.shape, tgt.shape))
            if shape != inp.shape or shape != tgt.shape:
                broadcast = shape
        except ValueError:
            broadcast = None
    tf = tgt.astype(np.float32)
    tfin = tf[np.isfinite(tf)]
    weight = loss.kwargs.get("weight")
    pos_weight = loss.kwargs.get("pos_weight")
    return LossCall(
        function=loss.function,
        input_shape=tuple(int(s) for s in inp.shape),
        target_shape=tuple(int(s) for s in tgt.shape),
        target_is_integer=tgt.dtype.kind != "f"
        or bool(tfin.size and np.array_equal(tfin, np.round(tfin)) and tgt.ndim < inp.ndim),
        input_min=float(finite.min()) if finite.size else math.nan,
        input_max=float(finite.max()) if finite.size else math.nan,
        input_rows_are_probabilities=probs,
        input_rows_are_log_probabilities=rows_log,
        input_columns_are_log_probabilities=cols_log,
        target_min=float(tfin.min()) if tfin.size else math.nan,
        target_max=float(tfin.max()) if tfin.size else math.nan,
        broadcast_shape=broadcast,
        has_class_weights=is_tensor(weight) or is_tensor(pos_weight),
        calls=loss.calls,
        reduction=str(loss.kwargs.get("reduction", "mean")),
    )


def expected_initial_loss(task: Task, function: str | None, y: np.ndarray) -> float | None:
    if function in ("cross_entropy", "cross_entropy_probs") and task.n_classes:
        return math.log(task.n_classes)  # uniform softmax over C classes
    if function in ("binary_cross_entropy", "binary_cross_entropy_with_logits"):
        return math.log(2.0)
    if function == "mse_loss" and y.size:
        return float(np.mean(np.asarray(y, dtype=np.float64) ** 2))  # outputs near 0 at init
    return None
