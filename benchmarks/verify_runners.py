"""Wall time of ``--verify``'s fix trials by runner, on one built-in scenario.

The scenario's training is captured and diagnosed once; then the same fix trials (the control plus every
fix of the top three causes) run through each runner in turn, several rounds in alternating order, and the
median wall time per runner is reported. Pool start-up (fresh ``spawn`` processes importing torch) is part of
every pool round, as it is for a user; Ray's own start-up (``ray.init``) is timed once and reported apart,
since a cluster is started once and then serves many runs.

    .venv/bin/python benchmarks/verify_runners.py [--scenario zero-grad-missing] [--rounds 3] [--no-ray]
    .venv/bin/python benchmarks/verify_runners.py --heavy    # a wider model: trials of about a second each

``--heavy`` replaces the scenario by a larger training (a 64-1024-1024-10 MLP, batches of 256, 300 steps of
SGD at a learning rate far too low), where each trial costs enough for parallel workers to pay off.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
import warnings

from deadpan.fixes.runner import InProcess, LocalPool, RayRunner, Runner
from deadpan.fixes.verify import verify
from deadpan.scenarios.registry import get
from deadpan.script.autolog import run_callable


class Steps:
    """A progress display that only counts the step reports."""

    def __init__(self) -> None:
        self.steps = 0

    def step(self, key: str, done: int, total: int) -> None:
        self.steps += 1

    def finished(self, key: str, ok: bool) -> None:
        pass


def heavy() -> None:
    """A larger broken training: the learning rate is far too low for 300 steps."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(10, 64, generator=g) * 2
    y = torch.randint(0, 10, (8192,), generator=g)
    x = centres[y] + torch.randn(8192, 64, generator=g)
    model = nn.Sequential(
        nn.Linear(64, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)
    )
    opt = torch.optim.SGD(model.parameters(), lr=1e-5)
    for step in range(300):
        i = (step * 256) % len(x)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[i : i + 256]), y[i : i + 256]).backward()
        opt.step()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="zero-grad-missing")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--heavy", action="store_true", help="a larger training instead of the scenario")
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    result = run_callable(heavy if args.heavy else get(args.scenario).train)
    name = "heavy (64-1024-1024-10 MLP)" if args.heavy else args.scenario
    assert result.inputs is not None and result.evidence is not None, "a PyTorch scenario is needed"
    runners: dict[str, Runner] = {
        "in process": InProcess(),
        "local pool, 1 worker": LocalPool(1),
        "local pool, 2 workers": LocalPool(2),
    }
    #: Runners that also pass every step report to a progress display (as a terminal run does).
    with_progress: set[str] = set()
    ray_start = None
    if not args.no_ray and importlib.util.find_spec("ray") is not None:
        t0 = time.perf_counter()
        ray = RayRunner("local", num_cpus=2)
        ray_start = time.perf_counter() - t0
        runners["Ray (local, 2 CPUs)"] = ray
        runners["Ray, step progress"] = ray
        with_progress.add("Ray, step progress")
    times: dict[str, list[float]] = {runner_name: [] for runner_name in runners}
    trials = 0
    for r in range(args.rounds):
        order = list(runners) if r % 2 == 0 else list(reversed(runners))
        for runner_name in order:
            progress = Steps() if runner_name in with_progress else None
            t0 = time.perf_counter()
            report = verify(
                result.report, result.evidence, result.inputs, runners[runner_name], progress=progress
            )
            times[runner_name].append(time.perf_counter() - t0)
            trials = 1 + sum(len((c.verified or {}).get("trials", [])) for c in report.causes)
            if progress is not None and not progress.steps:
                raise SystemExit(f"{runner_name}: no step was reported")
    base = statistics.median(times["in process"])
    print(f"{name}: {trials} trials (control included), {args.rounds} rounds, median wall time")
    for runner_name, ts in times.items():
        med = statistics.median(ts)
        print(
            f"  {runner_name:24s} {med:6.2f} s  ({base / med:4.2f}x in-process speed; "
            f"range {min(ts):.2f}-{max(ts):.2f})"
        )
    if ray_start is not None:
        print(f"  Ray start-up (once): {ray_start:.2f} s")


if __name__ == "__main__":
    main()
