"""Bounded samples of a training run: which steps are sampled, time series, and the batches kept for probes.

Nothing here draws a random number: the step schedule is fixed, a series merges neighbouring points when
full, and which batches are kept follows a hash of their index. Memory stays bounded however long the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from deadpan.probes.tensors import batch_size_of, nbytes, slice_rows, to_cpu

#: Steps before this are all sampled; after it, about 20 per decade (see :func:`sampled`).
DENSE_STEPS = 10
#: Batches kept for probes: at most this many bytes and rows (training and held-out each).
SAMPLE_BYTES = 48 * 2**20
SAMPLE_ROWS = 2048
#: Rows taken from any one batch, so one huge batch does not fill the budget.
ROWS_PER_BATCH = 256
#: Points kept per time series; beyond it neighbouring points are merged (bounded memory).
SERIES_POINTS = 512


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


def _fibonacci(i: int) -> int:
    """Fibonacci hash of a batch index to 32 bits: spreads indices with no period, draws from no RNG."""
    return (i * 2654435769) % 2**32


@dataclass
class BatchStore:
    """Batches (args, kwargs, target) kept for probes, spread over the whole run.

    Batch ``i`` is kept while the top ``level`` bits of its Fibonacci hash are zero; when the budget is
    exceeded the level rises by one and half of the kept batches go. Unlike "every 2**level-th batch", this
    does not alias with the epoch length (which would keep the same few batch positions in every epoch).
    """

    max_bytes: int = SAMPLE_BYTES
    max_rows: int = SAMPLE_ROWS
    batches: list[tuple[Any, Any, Any]] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    level: int = 0
    seen: int = 0
    rows: int = 0
    size: int = 0

    def _keeps(self, i: int, level: int) -> bool:
        return level == 0 or _fibonacci(i) >> (32 - level) == 0

    def keeps_next(self) -> bool:
        """Whether the next offered batch would be kept (so the caller can skip work when not)."""
        return self._keeps(self.seen, self.level)

    def offer(self, args: Any, kwargs: Any, target: Any) -> None:
        i = self.seen
        self.seen += 1
        if not self._keeps(i, self.level):
            return
        n = batch_size_of(target) or batch_size_of(args) or 1
        take = min(n, ROWS_PER_BATCH)
        item = (
            to_cpu(slice_rows(args, take)),
            to_cpu(slice_rows(kwargs, take)),
            to_cpu(slice_rows(target, take)),
        )
        self.batches.append(item)
        self.indices.append(i)
        self.rows += take
        self.size += nbytes(item)
        while (
            len(self.batches) > 1
            and (self.rows > self.max_rows or self.size > self.max_bytes)
            and self.level < 32
        ):
            self.level += 1
            kept = [
                (j, b) for j, b in zip(self.indices, self.batches, strict=True) if self._keeps(j, self.level)
            ]
            if not kept:  # never drop everything: keep the most recent batch
                kept = [(self.indices[-1], self.batches[-1])]
            self.indices = [j for j, _ in kept]
            self.batches = [b for _, b in kept]
            self.rows = sum(batch_size_of(b[2]) or 1 for b in self.batches)
            self.size = sum(nbytes(b) for b in self.batches)
