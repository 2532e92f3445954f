"""Cost of a full post-hoc diagnosis in units of the model's own training steps.

Trains a ~0.8M-parameter MLP and a ~0.8M-parameter CNN inside ``deadpan.watch``, then times the diagnosis
that runs on exit (probes on copies, checks, ranking) and divides by the median training step time.
Target: about 100 steps or less.

    .venv/bin/python benchmarks/diagnosis_cost.py
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

import deadpan
from deadpan.capture.report import recorder_inputs, report_from


def measure(name: str, model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int) -> None:
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    w = deadpan.watch(model, opt)
    with w:
        for _epoch in range(epochs):
            for i in range(0, len(x), 64):
                t0 = time.perf_counter()
                opt.zero_grad()
                loss_fn(model(x[i : i + 64]), y[i : i + 64]).backward()
                opt.step()
                times.append(time.perf_counter() - t0)
    step = statistics.median(times)
    assert w.recorder is not None
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        report = report_from(recorder_inputs(w.recorder, "watch"))
        runs.append(time.perf_counter() - t0)
    diag = statistics.median(runs)
    print(f"{name}: {n_params:,} parameters, {len(times)} training steps, median step {1e3 * step:.2f} ms")
    print(f"  diagnosis: median {diag:.2f} s over {len(runs)} runs = {diag / step:.0f} training steps")
    print(f"  verdict {report.verdict}; probe seconds: {report.metrics.get('probe_seconds')}")


def main() -> None:
    torch.manual_seed(0)
    x = torch.randn(4096, 256)
    y = (x[:, :8].sum(1) > 0).long() + 2 * (x[:, 8:16].sum(1) > 0).long()
    mlp = nn.Sequential(nn.Linear(256, 1024), nn.ReLU(), nn.Linear(1024, 512), nn.ReLU(), nn.Linear(512, 4))
    measure("MLP", mlp, x, y, epochs=3)
    images = torch.randn(1024, 1, 28, 28)
    labels = (images[:, 0, :14].mean((1, 2)) > images[:, 0, 14:].mean((1, 2))).long()
    cnn = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 14 * 14, 64),
        nn.ReLU(),
        nn.Linear(64, 2),
    )
    measure("CNN", cnn, images, labels, epochs=2)


if __name__ == "__main__":
    main()
