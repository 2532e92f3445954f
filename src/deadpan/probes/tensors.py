"""Small torch helpers shared by capture and probes: pick the tensor out of structured outputs, copy
batches to CPU, fingerprint batches. Nothing here draws random numbers or changes the tensors it reads.
(Keeping the random state is :mod:`deadpan.probes.rng`, turning a tensor into an array without importing
torch :mod:`deadpan.probes.arrays`.)
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch


def first_tensor(obj: Any) -> torch.Tensor | None:
    """The main tensor of a model output: itself, ``logits`` of a dict/ModelOutput/dataclass, or the first
    tensor of a tuple, list, dict or dataclass."""
    if isinstance(obj, torch.Tensor):
        return obj
    if isinstance(obj, Mapping):
        if "logits" in obj and isinstance(obj["logits"], torch.Tensor):
            return obj["logits"]
        for v in obj.values():
            t = first_tensor(v)
            if t is not None:
                return t
        return None
    if isinstance(obj, tuple | list):
        for v in obj:
            t = first_tensor(v)
            if t is not None:
                return t
        return None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        logits = getattr(obj, "logits", None)
        if isinstance(logits, torch.Tensor):
            return logits
        for f in dataclasses.fields(obj):
            t = first_tensor(getattr(obj, f.name))
            if t is not None:
                return t
    return None


def tensors_in(obj: Any) -> list[torch.Tensor]:
    """Every tensor inside a (possibly structured) model output, in :func:`first_tensor`'s order of
    preference: ``logits`` of a dict or dataclass first, then the rest in order, depth first."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    items: list[Any]
    if isinstance(obj, Mapping):
        items = list(obj.values())
        if "logits" in obj and isinstance(obj["logits"], torch.Tensor):
            items = [obj["logits"], *(v for k, v in obj.items() if k != "logits")]
    elif isinstance(obj, tuple | list):
        items = list(obj)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        items = [getattr(obj, f.name) for f in dataclasses.fields(obj)]
        logits = getattr(obj, "logits", None)
        if isinstance(logits, torch.Tensor):
            items = [logits, *(v for v in items if v is not logits)]
    else:
        return []
    return [t for v in items for t in tensors_in(v)]


def to_cpu(obj: Any) -> Any:
    """Detached CPU clone of every tensor inside ``obj`` (tuples, lists, dicts kept as they are)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, Mapping):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return type(obj)(to_cpu(v) for v in obj) if isinstance(obj, list) else tuple(to_cpu(v) for v in obj)
    return obj


def slice_rows(obj: Any, n: int) -> Any:
    """The first ``n`` rows of every tensor inside ``obj`` whose first dimension is the batch."""
    if isinstance(obj, torch.Tensor):
        return obj[:n] if obj.dim() > 0 else obj
    if isinstance(obj, Mapping):
        return {k: slice_rows(v, n) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return tuple(slice_rows(v, n) for v in obj)
    return obj


def batch_size_of(obj: Any) -> int | None:
    t = first_tensor(obj)
    if t is None or t.dim() == 0:
        return None
    return int(t.shape[0])


def nbytes(obj: Any) -> int:
    if isinstance(obj, torch.Tensor):
        return obj.element_size() * obj.nelement()
    if isinstance(obj, Mapping):
        return sum(nbytes(v) for v in obj.values())
    if isinstance(obj, tuple | list):
        return sum(nbytes(v) for v in obj)
    return 0


def fingerprint(t: torch.Tensor, points: int = 256) -> str:
    """A cheap identity for a batch: a hash of evenly strided elements (no copy of the whole batch)."""
    flat = t.detach().reshape(-1)
    stride = max(1, flat.numel() // points)
    sample = flat[::stride][:points].to("cpu")
    if sample.dtype in (torch.bfloat16, torch.float16):
        sample = sample.float()
    h = hashlib.blake2b(sample.numpy().tobytes(), digest_size=8)
    h.update(str(tuple(t.shape)).encode())
    return h.hexdigest()


def as_numpy(t: torch.Tensor) -> np.ndarray:
    """Float64 (or int64 for integer tensors) NumPy copy of a CPU tensor."""
    t = t.detach().to("cpu")
    if t.dtype == torch.bool:
        return t.numpy().astype(np.int64)
    if t.is_floating_point() or t.is_complex():
        return t.float().numpy().astype(np.float64)
    return t.numpy().astype(np.int64)


def is_finite(t: torch.Tensor) -> bool:
    if not t.is_floating_point():
        return True
    return bool(torch.isfinite(t).all())
