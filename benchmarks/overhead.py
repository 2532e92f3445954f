"""Step-time overhead of ``deadpan.watch``: median step time inside watch vs the same plain loop.

Blocks of steps alternate (plain, watched, plain, watched ...) in one process so that CPU frequency and
cache effects hit both alike; the figure is the ratio of median per-step times, in the training thread's
CPU time (``--wall``: wall clock). Two ways:

- steady: one watch session for the whole run, paused during the plain blocks (``Recorder.stop``/``start``)
  as in a long training, where the start-up work (the first dense steps, filling the batch sample) is
  amortised;
- fresh: a new ``deadpan.watch`` for every watched block, so each block pays the start-up work again (an
  upper bound for short trainings).

The diagnosis that runs when a watch exits is not part of the step time (see ``diagnosis_cost.py``).

    .venv/bin/python benchmarks/overhead.py [--blocks 10] [--steps 300] [--threads 1] [--wall]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

import deadpan

#: The training thread's CPU time: with one torch thread the step's whole work runs on it, and other
#: processes' load on a shared machine does not stretch it (``--wall``: wall-clock time instead).
CLOCK = time.thread_time


def mlp() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    return model, torch.randn(2048, 64), torch.randint(0, 10, (2048,))


def cnn() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 14 * 14, 10),
    )
    return model, torch.randn(1024, 1, 28, 28), torch.randint(0, 10, (1024,))


def steps(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    n: int,
    start: int,
    batch: int,
) -> list[float]:
    times = []
    loss_fn = nn.CrossEntropyLoss()
    for i in range(start, start + n):
        j = (i * batch) % (len(x) - batch)
        t0 = CLOCK()
        opt.zero_grad()
        loss = loss_fn(model(x[j : j + batch]), y[j : j + batch])
        loss.backward()
        opt.step()
        times.append(CLOCK() - t0)
    return times


def measure(
    name: str,
    make: Callable[[], tuple[nn.Module, torch.Tensor, torch.Tensor]],
    blocks: int,
    n: int,
    batch: int,
    fresh: bool,
) -> float:
    torch.manual_seed(0)
    model, x, y = make()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps(model, opt, x, y, 20, 0, batch)  # warm-up
    plain: list[float] = []
    watched: list[float] = []
    ratios = []
    session = deadpan.watch(model, opt, probes=False)
    rec = None
    if not fresh:
        session.__enter__()
        rec = session.recorder
        assert rec is not None
        rec.stop()
    for b in range(blocks):
        p = steps(model, opt, x, y, n, 2 * b * n, batch)
        if fresh:
            with deadpan.watch(model, opt, probes=False):
                w = steps(model, opt, x, y, n, (2 * b + 1) * n, batch)
        else:
            assert rec is not None
            rec.start()
            w = steps(model, opt, x, y, n, (2 * b + 1) * n, batch)
            rec.stop()
        plain += p
        watched += w
        ratios.append(statistics.median(w) / statistics.median(p))
    ratio = statistics.median(watched) / statistics.median(plain)
    print(
        f"{name:4s} {'fresh' if fresh else 'steady':6s} plain {1e3 * statistics.median(plain):7.3f} ms/step  "
        f"watched {1e3 * statistics.median(watched):7.3f} ms/step  ratio {ratio:.3f}  "
        f"(per-block {min(ratios):.3f}..{max(ratios):.3f}, {blocks} blocks x {n} steps)"
    )
    return ratio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=10)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 gives the steadiest timings)")
    ap.add_argument("--wall", action="store_true", help="wall-clock step times instead of thread CPU time")
    args = ap.parse_args()
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    torch.set_num_threads(args.threads)
    clock = "wall clock" if args.wall else "thread CPU time"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, step times in {clock}")
    out = {}
    for fresh in (False, True):
        out[("MLP", fresh)] = measure("MLP", mlp, args.blocks, args.steps, 64, fresh)
        out[("CNN", fresh)] = measure("CNN", cnn, args.blocks, args.steps, 32, fresh)
    print(
        "median step-time ratio watch/plain (target <= 1.05): "
        f"steady MLP {out['MLP', False]:.3f}, CNN {out['CNN', False]:.3f}; "
        f"fresh watch per {args.steps}-step block MLP {out['MLP', True]:.3f}, CNN {out['CNN', True]:.3f}"
    )


if __name__ == "__main__":
    main()
