"""Statistics of what a run left behind, computed without running the model: its weight matrices against
their initialisation rule, NaN or inf in the captured data.

Framework-free, so that both frameworks' evidence (:mod:`deadpan.capture.build`, :mod:`deadpan.keras.build`)
says the same things the same way; the PyTorch builder reads its captures into arrays first
(:mod:`deadpan.capture.captured`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from deadpan.evidence import LayerInfo, WeightStats
from deadpan.probes.arrays import to_numpy

#: Activations after which a weight matrix is expected at He initialisation's scale (else Glorot's).
RELU_FAMILY = ("relu", "leaky_relu", "elu", "gelu", "softplus")


def weight_stats(
    weights: Sequence[tuple[str, str, Any]], layers: Sequence[LayerInfo]
) -> tuple[WeightStats, ...]:
    """Statistics of each weight matrix (a torch tensor or an array), given in PyTorch's ``(out, in, ...)``
    layout."""
    order = [layer.name for layer in layers]
    out = []
    for name, kind, raw in weights:
        w = to_numpy(raw).astype(np.float64)
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


def nonfinite_step(a: np.ndarray | None) -> int | None:
    """0 when a floating array of captured data holds NaN or inf (the step is unknown: data seen at once)."""
    if a is None or not np.issubdtype(a.dtype, np.floating):
        return None
    return None if np.isfinite(a).all() else 0
