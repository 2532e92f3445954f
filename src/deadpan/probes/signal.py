"""One layer's signal on a probe batch: how much its output still varies across samples, and how many of its
units are dead (ReLU) or saturated (sigmoid, tanh). Framework-free: the activations are a NumPy array (a
PyTorch caller converts its tensors with :func:`~deadpan.probes.arrays.to_numpy`); which layers run and in
what order is each framework's (:mod:`deadpan.probes.layers` for PyTorch, :mod:`deadpan.keras.probes`)."""

from __future__ import annotations

import numpy as np

from deadpan.evidence import LayerSignal

#: Units within this distance of a sigmoid/tanh limit count as saturated (gradient < ~1% of its maximum).
SATURATION_MARGIN = 0.01
#: ... for at least this share of the probe samples.
SATURATED_SAMPLE_SHARE = 0.99


def _per_unit(a: np.ndarray, channels_first: bool | None = None) -> np.ndarray:
    """(n, ...) -> (n, units, positions) for per-unit statistics. ``channels_first`` says where the units
    are in a 3-D or larger output (dim 1 for conv maps, the last dim for sequence features); unknown (None),
    3-D outputs are taken as ``(n, seq, features)`` and larger ones as ``(n, channels, ...)``."""
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 1:
        return a.reshape(-1, 1, 1)
    if a.ndim == 2:
        return a[:, :, None]
    if channels_first is None:
        channels_first = a.ndim > 3
    if not channels_first:
        a = np.moveaxis(a, -1, 1)
    return a.reshape(a.shape[0], a.shape[1], -1)


def _spread_per_unit(u: np.ndarray) -> np.ndarray:
    """Each unit's standard deviation over the samples (``ddof=1``) of ``(n, units, positions)`` activations.
    Sums in float64, so that a unit with the same output for every sample has a spread of exactly 0, with
    one float32 temporary the size of ``u`` (a float64 copy of a large feature map would double the probe's
    memory)."""
    d = u - u.mean(0, dtype=np.float64).astype(u.dtype)
    np.square(d, out=d)
    out: np.ndarray = np.sqrt(d.sum(0, dtype=np.float64) / (len(u) - 1))
    return out


def signal(
    name: str, kind: str, activation: str | None, a: np.ndarray, channels_first: bool | None = None
) -> LayerSignal:
    """The signal of the layer ``name`` (of class ``kind``, followed by ``activation``) from its output
    ``a`` on a probe batch (samples first)."""
    u = np.nan_to_num(_per_unit(a, channels_first), nan=0.0, posinf=1e6, neginf=-1e6)
    n = u.shape[0]
    mean_abs = float(np.abs(u).mean(dtype=np.float64))
    spread = float(_spread_per_unit(u).mean()) / (mean_abs + 1e-12) if n > 1 else 0.0
    dead = 0.0
    saturated = 0.0
    if activation in ("relu",):
        dead = float((u <= 0).all(axis=2).all(axis=0).mean(dtype=np.float32))
    if activation in ("sigmoid", "tanh"):
        lo, hi = (0.0, 1.0) if activation == "sigmoid" else (-1.0, 1.0)
        margin = SATURATION_MARGIN * (hi - lo)
        near = (np.abs(u - lo) < margin) | (np.abs(hi - u) < margin)
        share = near.mean(axis=2, dtype=np.float32).mean(axis=0)
        saturated = float((share >= SATURATED_SAMPLE_SHARE).mean(dtype=np.float32))
    return LayerSignal(
        name=name,
        kind=kind,
        activation=activation,
        spread=spread,
        dead_fraction=dead,
        saturated_fraction=saturated,
        mean_abs=mean_abs,
        units=int(u.shape[1]),
    )
