"""Bounded samples of a training run, for either framework: which steps are sampled, time series, and the
bounds on what is kept (the PyTorch batches kept for probes are :mod:`deadpan.capture.batch_store`).

Nothing here draws a random number: the step schedule is fixed, a series merges neighbouring points when
full. Memory stays bounded however long the run.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

#: Steps before this are all sampled; after it, about 20 per decade (see :func:`sampled`).
DENSE_STEPS = 10
#: Batches kept for probes: at most this many bytes and rows (training and held-out each).
SAMPLE_BYTES = 48 * 2**20
SAMPLE_ROWS = 2048
#: Rows taken from any one batch, so one huge batch does not fill the budget.
ROWS_PER_BATCH = 256
#: Points kept per time series; beyond it neighbouring points are merged (bounded memory).
SERIES_POINTS = 512
#: Snapshot the initial weights for probes only up to this many parameters (memory bound).
SNAPSHOT_MAX_PARAMS = 20_000_000


def sampled(step: int) -> bool:
    """Deterministic sampling schedule: the first ``DENSE_STEPS`` steps, then about 20 per decade
    (every 5th step up to 100, every 50th up to 1000, ...), so sampled work stays O(log steps)."""
    if step < DENSE_STEPS:
        return True
    period = max(1, 10 ** int(math.log10(step)) // 2)
    return step % period == 0


class Series:
    """A bounded time series: (step, value) points, neighbouring pairs merged when full."""

    def __init__(self, capacity: int = SERIES_POINTS) -> None:
        self.capacity = capacity
        self.steps: list[int] = []
        self.values: list[float] = []
        self._pending: list[tuple[int, torch.Tensor]] = []
        #: First step whose value was NaN/inf, found exactly at flush time (no per-step sync).
        self.first_nonfinite: int | None = None

    def add_tensor(self, step: int, value: torch.Tensor) -> None:
        """Queue a detached scalar tensor; converted in bulk later so no sync per step."""
        self._pending.append((step, value))
        if len(self._pending) >= 256:
            self.flush()

    def add(self, step: int, value: float) -> None:
        self.steps.append(step)
        self.values.append(value)
        if len(self.steps) > self.capacity:
            self._merge()

    def flush(self) -> None:
        if not self._pending:
            return
        import torch  # the pending values are torch tensors: torch is loaded

        pending, self._pending = self._pending, []
        values = torch.stack([v.float().reshape(()) for _, v in pending]).to("cpu").tolist()
        for (step, _), v in zip(pending, values, strict=True):
            if self.first_nonfinite is None and not math.isfinite(v):
                self.first_nonfinite = step
            self.add(step, float(v))

    def _merge(self) -> None:
        steps, values = [], []
        for i in range(0, len(self.steps) - 1, 2):
            a, b = self.values[i], self.values[i + 1]
            steps.append(self.steps[i])
            values.append(
                (a + b) / 2 if math.isfinite(a) and math.isfinite(b) else (b if math.isfinite(a) else a)
            )
        if len(self.steps) % 2:
            steps.append(self.steps[-1])
            values.append(self.values[-1])
        self.steps, self.values = steps, values
