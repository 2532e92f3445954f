"""Statistics of what a run left behind, computed without running the model: its weight matrices against
their initialisation rule, the kept batches stacked into arrays, their dtype, NaN or inf in them.

The PyTorch evidence builder (:mod:`deadpan.capture.build`) uses them all; the Keras one the weight
statistics and the NaN/inf step, so both frameworks' evidence says the same things the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from deadpan.evidence import LayerInfo, WeightStats
from deadpan.probes.outputs import Batch
from deadpan.probes.tensors import as_numpy, first_tensor

#: Activations after which a weight matrix is expected at He initialisation's scale (else Glorot's).
RELU_FAMILY = ("relu", "leaky_relu", "elu", "gelu", "softplus")


def weight_stats(
    weights: Sequence[tuple[str, str, torch.Tensor | np.ndarray]], layers: Sequence[LayerInfo]
) -> tuple[WeightStats, ...]:
    """Statistics of each weight matrix, given in PyTorch's ``(out, in, ...)`` layout."""
    order = [layer.name for layer in layers]
    out = []
    for name, kind, raw in weights:
        w = as_numpy(raw.detach()) if isinstance(raw, torch.Tensor) else np.asarray(raw)
        w = w.astype(np.float64)
        fan_out = int(w.shape[0])
        fan_in = int(np.prod(w.shape[1:]))
        rows = w.reshape(fan_out, -1)[:2048]
        distinct = len(np.unique(np.round(rows, 7), axis=0)) / max(1, min(fan_out, 2048))
        nxt = None
        if name in order:
            for later in layers[order.index(name) + 1 :]:
                if later.activation is not None:
                    nxt = later.activation
                    break
                if later.n_params:
                    break
        if kind == "Embedding":
            expected = 1.0
            fan_in, fan_out = fan_out, int(w.shape[1])
        elif nxt in RELU_FAMILY:
            expected = math.sqrt(2.0 / fan_in)  # He et al. 2015
        else:
            expected = math.sqrt(2.0 / (fan_in + fan_out))  # Glorot & Bengio 2010
        out.append(
            WeightStats(
                name=name,
                kind=kind,
                shape=tuple(int(s) for s in w.shape),
                std=float(w.std(ddof=1)) if w.size > 1 else 0.0,
                mean_abs=float(np.abs(w).mean()),
                fan_in=fan_in,
                fan_out=fan_out,
                distinct_rows=float(distinct),
                expected_std=expected,
            )
        )
    return tuple(out)


def weights_of(model: nn.Module) -> list[tuple[str, str, torch.Tensor]]:
    """Each weight matrix of ``model`` (a module's ``weight`` of two or more dimensions): its module's name
    and class, and a CPU copy."""
    found = []
    for name, mod in model.named_modules():
        w = getattr(mod, "weight", None)
        if isinstance(w, torch.Tensor) and w.dim() >= 2:
            found.append((name, type(mod).__name__, w.detach().to("cpu", copy=True)))
    return found


def stack_inputs(batches: Sequence[Batch]) -> np.ndarray | None:
    """The batches' first input tensors as one array (those with the first one's row shape); None without
    any."""
    xs = [first_tensor(b[0]) for b in batches]
    arrays = [as_numpy(x) for x in xs if x is not None]
    if not arrays:
        return None
    shape = arrays[0].shape[1:]
    same = [a for a in arrays if a.shape[1:] == shape]
    return np.concatenate(same) if same else None


def stack_targets(batches: Sequence[Batch], x_rows: int | None) -> np.ndarray:
    """The batches' targets as one array (those with the first one's row shape), cut to ``x_rows`` rows."""
    ys = [as_numpy(b[2]) for b in batches]
    shape = ys[0].shape[1:]
    y = np.concatenate([a for a in ys if a.shape[1:] == shape])
    return y[:x_rows] if x_rows is not None else y


def dtype_of(batches: Sequence[Batch]) -> str:
    """The dtype of the first batch's input tensor without the ``torch.`` prefix (``unknown`` without one)."""
    x = first_tensor(batches[0][0]) if batches else None
    return str(x.dtype).replace("torch.", "") if x is not None else "unknown"


def nonfinite_step(a: np.ndarray | None) -> int | None:
    """0 when a floating array of captured data holds NaN or inf (the step is unknown: data seen at once)."""
    if a is None or not np.issubdtype(a.dtype, np.floating):
        return None
    return None if np.isfinite(a).all() else 0
