"""What the PyTorch evidence builder reads off its captures as arrays, without running the model: the model's
weight matrices, the kept batches' inputs and targets stacked, their dtype. (Their statistics are
:mod:`deadpan.capture.stats`.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from deadpan.probes.forward import Batch
from deadpan.probes.tensors import as_numpy, first_tensor


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
