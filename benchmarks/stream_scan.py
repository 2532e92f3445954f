"""The data pass of ``deadpan.diagnose`` over a DataLoader of 10 million samples: throughput and memory.

The samples (32 features, 10 classes, class 3 rarer) are made on the fly by an ``IterableDataset``, so the
data itself takes no memory and what is measured is deadpan's. Three arms, each repeated and the median
kept: the user's own loop over the loader (reading every batch and nothing else), deadpan's streaming pass
over the same loader (:func:`deadpan.capture.stream.scan`), and a full ``deadpan.diagnose(model, loader)``
(the pass plus the probes on its 2048-row sample). Printed: rows/s of each, deadpan's pass relative to the
bare loop, the memory deadpan holds at the end and Python's peak allocation during the pass at 1M and 10M
rows (flat = bounded).

    .venv/bin/python benchmarks/stream_scan.py [--rows 10000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader, IterableDataset

import deadpan
from deadpan.capture.stream import scan

BATCH = 4096
WIDTH = 32


class Generated(IterableDataset):  # type: ignore[type-arg]
    def __init__(self, rows: int) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        g = torch.Generator().manual_seed(0)
        for start in range(0, self.rows, BATCH):
            n = min(BATCH, self.rows - start)
            y = torch.randint(0, 10, (n,), generator=g)
            y[(y == 3) & (torch.rand(n, generator=g) < 0.9)] = 4
            x = torch.randn(n, WIDTH, generator=g) + y[:, None].float() * 0.1
            yield x, y


def loader(rows: int) -> DataLoader:  # type: ignore[type-arg]
    return DataLoader(Generated(rows), batch_size=None)


def bare(rows: int) -> float:
    t0 = time.perf_counter()
    seen = 0
    for _x, y in loader(rows):
        seen += len(y)
    return time.perf_counter() - t0


def deadpan_pass(rows: int, trace: bool = False) -> tuple[float, int, int]:
    """Seconds, bytes held, and (``trace``: timing then includes tracemalloc's cost) the peak allocation."""
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    stats = scan(((x,), {}, y) for x, y in loader(rows))
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    assert stats.rows == rows
    return seconds, stats.nbytes(), peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    n = args.rows
    bare_s = statistics.median(bare(n) for _ in range(args.repeats))
    runs = [deadpan_pass(n) for _ in range(args.repeats)]
    pass_s = statistics.median(r[0] for r in runs)
    model = nn.Sequential(nn.Linear(WIDTH, 64), nn.ReLU(), nn.Linear(64, 10))
    t0 = time.perf_counter()
    report = deadpan.diagnose(model, loader(n))
    diagnose_s = time.perf_counter() - t0
    print(f"rows: {n:,} in batches of {BATCH}, {WIDTH} features; median of {args.repeats}")
    print("| arm | seconds | rows/s |")
    print("|---|---|---|")
    print(f"| the loop alone | {bare_s:.2f} | {n / bare_s:,.0f} |")
    print(f"| deadpan's pass over the same loader | {pass_s:.2f} | {n / pass_s:,.0f} |")
    print(f"| deadpan.diagnose(model, loader) | {diagnose_s:.2f} | {n / diagnose_s:,.0f} |")
    print(f"deadpan's pass beside the loop: {(pass_s - bare_s) / n * 1e9:.0f} ns per row")
    print(f"report: {report.verdict}; metrics.data: {report.metrics['data']}")
    print("| rows | memory deadpan holds | peak Python allocation during the pass |")
    print("|---|---|---|")
    for rows in sorted({min(n, 1_000_000), n}):
        _, held, peak = deadpan_pass(rows, trace=True)
        print(f"| {rows:,} | {held / 1024:.1f} KiB | {peak / 2**20:.2f} MiB |")


if __name__ == "__main__":
    main()
