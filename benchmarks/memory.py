"""Evidence memory vs training length: a small MLP trained for ``--steps`` steps (100k by default) under
``deadpan.watch`` (live checks on), with deadpan's evidence measured by part (``Recorder.evidence_bytes``) at
1k, 10k and 100k steps, and the process's peak resident memory alongside. Flat columns mean bounded memory.

    .venv/bin/python benchmarks/memory.py [--steps 100000]
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import torch
from torch import nn

import deadpan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100_000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    torch.manual_seed(0)
    x = torch.randn(8192, 32)
    y = (x[:, :4].sum(1) > 0).long() + (x[:, 4] > 1).long()
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    marks = {m for m in (1_000, 10_000, 100_000, args.steps) if m <= args.steps}
    parts = ["batches", "initial_weights", "series", "layer_grad", "fingerprints"]
    print("| steps | " + " | ".join(parts) + " | total | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    t0 = time.perf_counter()
    with deadpan.watch(model, opt, probes=False) as w:
        rec = w.recorder
        assert rec is not None
        for step in range(1, args.steps + 1):
            i = (step * 64) % (len(x) - 64)
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[i : i + 64]), y[i : i + 64]).backward()
            opt.step()
            if step in marks:
                rec.flush()
                b = rec.evidence_bytes()
                kib = " | ".join(f"{b[p] / 1024:.1f} KiB" for p in parts)
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(f"| {step:,} | {kib} | {sum(b.values()) / 1024:.1f} KiB | {rss:.0f} |", flush=True)
    print(f"({time.perf_counter() - t0:.0f} s; {w.report.verdict if w.report else '-'})")


if __name__ == "__main__":
    main()
