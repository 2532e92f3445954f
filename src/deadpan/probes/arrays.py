"""Arrays from either framework, without importing one: the framework-free probes compute on NumPy arrays, and
their PyTorch callers hand them tensors converted here.

A torch tensor is recognised without importing torch: one can exist only once torch is loaded, so
``sys.modules`` says whether to look (a Keras run on TensorFlow never loads it).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def is_tensor(obj: Any) -> bool:
    """``obj`` is a torch tensor (False whenever torch has not been imported)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)


def to_numpy(obj: Any) -> np.ndarray:
    """``obj`` as a NumPy array: a torch tensor detached and copied to the CPU (half-precision floats, which
    NumPy lacks or computes poorly, as float32), anything else through ``np.asarray``."""
    if not is_tensor(obj):
        return np.asarray(obj)
    t = obj.detach().cpu()
    if t.is_floating_point() and t.element_size() < 4:  # bfloat16, float16 (and smaller)
        t = t.float()
    out: np.ndarray = t.numpy()
    return out
