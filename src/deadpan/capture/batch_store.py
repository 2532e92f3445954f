"""The batches a PyTorch recorder keeps for probes, spread over the whole run within a byte and row budget
(:data:`~deadpan.capture.samples.SAMPLE_BYTES`, :data:`~deadpan.capture.samples.SAMPLE_ROWS`).

Nothing here draws a random number: which batches are kept follows a hash of their index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deadpan.capture.samples import ROWS_PER_BATCH, SAMPLE_BYTES, SAMPLE_ROWS
from deadpan.probes.tensors import batch_size_of, nbytes, slice_rows, to_cpu


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
