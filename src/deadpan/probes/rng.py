"""The random state deadpan's own work must leave as it found it: Python's, NumPy's and, when the run has
loaded it, torch's (CPU and CUDA)."""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Iterator

import numpy as np


@contextlib.contextmanager
def preserved_rng() -> Iterator[None]:
    """Restore Python, NumPy and torch (CPU and CUDA) random states after the block. torch's only when it is
    already imported: a run that never loaded torch has no torch state to keep, and importing it here would
    cost the run its memory."""
    py = random.getstate()
    np_state = np.random.get_state()
    torch = sys.modules.get("torch")
    cpu = torch.get_rng_state() if torch is not None else None
    cuda = (
        torch.cuda.get_rng_state_all()
        if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized()
        else None
    )
    try:
        yield
    finally:
        random.setstate(py)
        np.random.set_state(np_state)
        if torch is not None:
            torch.set_rng_state(cpu)
            if cuda is not None:
                torch.cuda.set_rng_state_all(cuda)
