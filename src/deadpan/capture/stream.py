"""One streaming pass over the user's data: exact counts over every row, an unbiased sample, bounded memory.

``deadpan.diagnose(model, loader)`` used to read the first 2048 rows. On a data set sorted by label (or any
ordered source) those rows are not the data: the first 2048 of a sorted set hold one class, and a NaN in row
7,000,000 is never seen. :func:`scan` reads every batch once and keeps, whatever the number of rows:

* per input feature: count, mean, spread (Chan et al.'s parallel update of Welford's sums), min and max;
* the targets: rows per class for integer class ids (up to :data:`MAX_CLASSES` ids), else mean and spread;
* the rows holding NaN or inf in the inputs or targets, and the first such row;
* a uniform random sample of :data:`SAMPLE_ROWS` rows over the whole stream (reservoir sampling, with
  deadpan's own generator: the user's random state is not touched), which the probes and checks then use.

Memory is a few arrays the width of one input row, the class counts and the sample: flat in the number of
rows (``tests/trust/test_stream.py``; ``benchmarks/stream_scan.py`` for 10 million rows and the throughput).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from deadpan.capture.samples import SAMPLE_ROWS
from deadpan.evidence import StreamCounts  # the sample: as many rows as a recorded run keeps

#: Class ids counted up to this value; beyond it the targets are treated as values, not classes.
MAX_CLASSES = 1_000_000
#: Rows per chunk when arrays (not a DataLoader) are streamed.
ARRAY_CHUNK = 4096
#: A progress line on stderr every this many seconds of a long pass (on a terminal only).
PROGRESS_EVERY_S = 5.0

Batch = tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor], torch.Tensor]


@dataclass
class StreamStats(StreamCounts):
    """What one pass over the data saw (every row), and the uniform sample."""

    #: The uniform sample, as batches the probes take.
    sample: list[Batch] = field(default_factory=list)

    def nbytes(self) -> int:
        """Memory held, in bytes: flat in the number of rows."""
        total = self.counts_nbytes()
        for args, kwargs, target in self.sample:
            for t in (*args, *kwargs.values(), target):
                total += t.element_size() * t.nelement()
        return total

    def summary(self) -> dict[str, Any]:
        """Headline numbers for the report's metrics."""
        return {
            "rows": self.rows,
            "batches": self.batches,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second) if math.isfinite(self.rows_per_second) else None,
            "distinct_classes": self.distinct_classes,
            "nonfinite_input_rows": self.nonfinite_input_rows,
            "nonfinite_target_rows": self.nonfinite_target_rows,
            "sample_rows": sum(len(b[2]) for b in self.sample),
            "memory_bytes": self.nbytes(),
        }


class _Moments:
    """Count, mean and spread per column, merged batch by batch (Chan et al. 1979's parallel update).

    Sums run in float64 over the values less a shift (the first row seen), computed in the batch's own
    float type: no float64 copy of the batch, and a constant column sums to exactly zero spread."""

    def __init__(self) -> None:
        self.n = 0
        self.shift: torch.Tensor | None = None
        self.s1: torch.Tensor | None = None
        self.s2: torch.Tensor | None = None
        self.lo: torch.Tensor | None = None
        self.hi: torch.Tensor | None = None

    def add(self, x: torch.Tensor) -> torch.Tensor:
        """Add the finite rows of ``x``; returns them (``x`` itself when every row is finite)."""
        if self.shift is not None and x.shape[1:] != self.shift.shape:
            raise ValueError(f"input rows changed width: {self.shift.numel()} then {x.shape[1]} features")
        s1, s2 = self._sums(x)
        if not bool(torch.isfinite(s2.sum())):  # a NaN or inf somewhere (finite float sums cannot overflow)
            x = x[torch.isfinite(x).all(dim=1)]
            s1, s2 = self._sums(x)
        if x.shape[0] == 0:
            return x
        lo, hi = torch.aminmax(x, dim=0)
        if self.s1 is None or self.s2 is None or self.lo is None or self.hi is None:
            self.s1, self.s2, self.lo, self.hi = s1, s2, lo, hi
        else:
            self.s1, self.s2 = self.s1 + s1, self.s2 + s2
            self.lo, self.hi = torch.minimum(self.lo, lo), torch.maximum(self.hi, hi)
        self.n += x.shape[0]
        return x

    def _sums(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.shift is None:  # the shift: the first finite row (a NaN-only batch flags itself as such)
            finite = x[torch.isfinite(x).all(dim=1)]
            if finite.shape[0] == 0:
                zero = torch.zeros(x.shape[1:], dtype=torch.float64)
                return zero, torch.full_like(zero, math.nan) if x.shape[0] else zero
            self.shift = finite[0].clone()
        xs = x - self.shift
        return xs.sum(0, dtype=torch.float64), (xs * xs).sum(0, dtype=torch.float64)

    @property
    def mean(self) -> np.ndarray | None:
        if self.s1 is None or self.shift is None:
            return None
        return (self.s1 / self.n + self.shift.double()).numpy()

    def std(self) -> np.ndarray | None:
        if self.s1 is None or self.s2 is None:
            return None
        var = (self.s2 / self.n - (self.s1 / self.n) ** 2).clamp_min(0)
        return var.sqrt().numpy()

    def bounds(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        if self.lo is None or self.hi is None:
            return None, None
        return self.lo.double().numpy(), self.hi.double().numpy()


class _Reservoir:
    """A uniform sample of ``k`` rows from a stream of unknown length (Vitter's algorithm R, vectorised per
    batch), drawn from deadpan's own generator. Rows are kept in tensors allocated once; a batch whose rows
    have another shape (sequences padded per batch) cannot join the sample and is left out of it."""

    def __init__(self, k: int, seed: int = 0) -> None:
        self.k = k
        self.rng = np.random.default_rng(seed)
        self.args: list[torch.Tensor] = []
        self.kwargs: dict[str, torch.Tensor] = {}
        self.target: torch.Tensor | None = None
        self.filled = 0
        self.seen = 0
        self.skipped_batches = 0

    def _fits(
        self, args: tuple[torch.Tensor, ...], kwargs: dict[str, torch.Tensor], target: torch.Tensor
    ) -> bool:
        if self.target is None:
            self.args = [a.new_empty((self.k, *a.shape[1:])) for a in args]
            self.kwargs = {key: v.new_empty((self.k, *v.shape[1:])) for key, v in kwargs.items()}
            self.target = target.new_empty((self.k, *target.shape[1:]))
            return True
        pairs = [*zip(self.args, args, strict=False), (self.target, target)]
        pairs += [(self.kwargs[key], v) for key, v in kwargs.items() if key in self.kwargs]
        return (
            len(args) == len(self.args)
            and kwargs.keys() == self.kwargs.keys()
            and all(mine.shape[1:] == t.shape[1:] and mine.dtype == t.dtype for mine, t in pairs)
        )

    def add(
        self, args: tuple[torch.Tensor, ...], kwargs: dict[str, torch.Tensor], target: torch.Tensor
    ) -> None:
        n = len(target)
        start = self.seen
        self.seen += n
        if not self._fits(args, kwargs, target):
            self.skipped_batches += 1
            return
        fill = min(self.k - self.filled, n)
        rows = np.arange(fill)
        slots = np.arange(self.filled, self.filled + fill)
        self.filled += fill
        if fill < n:
            idx = np.arange(start + fill, start + n)
            drawn = (self.rng.random(len(idx)) * (idx + 1)).astype(np.int64)
            keep = np.nonzero(drawn < self.k)[0]
            # A later row of the batch drawing the same slot as an earlier one replaces it: keep the last.
            last = len(keep) - 1 - np.unique(drawn[keep][::-1], return_index=True)[1]
            rows = np.concatenate([rows, keep[last] + fill])
            slots = np.concatenate([slots, drawn[keep][last]])
        if not len(rows):
            return
        r, sl = torch.from_numpy(rows), torch.from_numpy(slots)
        for mine, a in zip(self.args, args, strict=True):
            mine[sl] = a.detach().to("cpu")[r]
        for key, v in kwargs.items():
            self.kwargs[key][sl] = v.detach().to("cpu")[r]
        assert self.target is not None
        self.target[sl] = target.detach().to("cpu")[r]

    def batches(self, size: int = 256) -> list[Batch]:
        if self.target is None:
            return []
        out: list[Batch] = []
        for i in range(0, self.filled, size):
            j = min(i + size, self.filled)
            out.append(
                (
                    tuple(a[i:j].clone() for a in self.args),
                    {key: v[i:j].clone() for key, v in self.kwargs.items()},
                    self.target[i:j].clone(),
                )
            )
        return out


def _numeric_rows(t: torch.Tensor) -> torch.Tensor:
    """(rows, features) view of a batch tensor in a float type (bool and integer values count as numbers)."""
    a = t.detach().to("cpu")
    if not (a.is_floating_point() and a.dtype in (torch.float32, torch.float64)):
        a = a.float()
    return a.reshape(a.shape[0], -1) if a.dim() > 1 else a.reshape(-1, 1)


def _class_ids(y: torch.Tensor) -> np.ndarray | None:
    """The targets as class ids when every one is an integer in [0, MAX_CLASSES) in a 1-D target."""
    if y.shape[1] != 1:
        return None
    v = y[:, 0]
    if len(v) and (v.min() < 0 or v.max() >= MAX_CLASSES or not bool(torch.all(v == torch.floor(v)))):
        return None
    return v.to(torch.int64).numpy()


def _count_nonfinite(stats: StreamStats, what: str, rows: torch.Tensor, kept: int) -> None:
    """Count the rows :class:`_Moments` left out for NaN or inf (and place the first), on ``stats``."""
    if kept == len(rows):
        return
    setattr(stats, f"nonfinite_{what}_rows", getattr(stats, f"nonfinite_{what}_rows") + len(rows) - kept)
    if getattr(stats, f"first_nonfinite_{what}_row") is None:
        ok = torch.isfinite(rows).all(dim=1)
        setattr(stats, f"first_nonfinite_{what}_row", stats.rows + int(torch.argmin(ok.to(torch.uint8))))


def scan(
    batches: Iterable[Batch],
    *,
    max_rows: int | None = None,
    sample_rows: int = SAMPLE_ROWS,
    progress: Callable[[StreamStats], None] | None = None,
) -> StreamStats:
    """Read every batch once (up to ``max_rows`` rows): exact statistics and a uniform sample."""
    stats = StreamStats()
    inputs, targets = _Moments(), _Moments()
    reservoir = _Reservoir(sample_rows)
    counts: np.ndarray | None = np.zeros(0, dtype=np.int64)
    t0 = last = time.perf_counter()
    for args, kwargs, target in batches:
        n = len(target)
        if n == 0:
            continue
        given = (*args, *kwargs.values(), target)
        if not all(isinstance(t, torch.Tensor) for t in given):
            kinds = sorted({type(t).__name__ for t in given if not isinstance(t, torch.Tensor)})
            raise TypeError(f"deadpan reads batches of tensors or arrays, not {', '.join(kinds)}")
        parts = [_numeric_rows(t) for t in (*args, *kwargs.values())]
        x = parts[0] if len(parts) == 1 else torch.cat([p.to(torch.float64) for p in parts], dim=1)
        y = _numeric_rows(target)
        x_used = inputs.add(x)
        y = targets.add(y)
        _count_nonfinite(stats, "input", x, len(x_used))
        _count_nonfinite(stats, "target", _numeric_rows(target), len(y))
        if counts is not None:
            ids = _class_ids(y)
            if ids is None:
                counts = None
            elif len(ids):
                counts = np.pad(counts, (0, max(0, int(ids.max()) + 1 - len(counts))))
                counts += np.bincount(ids, minlength=len(counts))
        reservoir.add(args, kwargs, target)
        stats.rows += n
        stats.batches += 1
        now = time.perf_counter()
        if progress is not None and now - last >= PROGRESS_EVERY_S:
            stats.seconds, last = now - t0, now
            progress(stats)
        if max_rows is not None and stats.rows >= max_rows:
            break
    stats.seconds = time.perf_counter() - t0
    stats.class_counts = counts if counts is not None and stats.rows else None
    means, stds = targets.mean, targets.std()
    if means is not None and stds is not None:  # pooled over every target element (columns equally filled)
        stats.target_mean = float(means.mean())
        stats.target_std = float(np.sqrt(max(0.0, float((stds**2 + means**2).mean()) - stats.target_mean**2)))
    stats.feature_mean, stats.feature_std = inputs.mean, inputs.std()
    stats.feature_min, stats.feature_max = inputs.bounds()
    stats.sample = reservoir.batches()
    return stats


def print_progress(stats: StreamStats) -> None:
    """A progress line on stderr, overwritten in place, on a terminal only."""
    if sys.stderr.isatty():
        sys.stderr.write(
            f"\rdeadpan: read {stats.rows:,} rows of data ({stats.rows_per_second:,.0f} rows/s)" + " " * 8
        )
        sys.stderr.flush()
