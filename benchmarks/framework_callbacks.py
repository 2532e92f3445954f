"""Step-time overhead of the Lightning and Hugging Face callbacks: median step time of the same training
with ``DeadpanCallback`` vs without it, blocks in one process in a rotating order (plain, no-op, deadpan;
no-op, deadpan, plain; ...), a fresh trainer, model and callback per block, so each block pays deadpan's
start-up (the dense sampling of the first steps). The step time is the interval between consecutive
batch-start hooks of a timing callback (the first steps of a block left out), in the training thread's CPU
time (``--wall``: wall clock), so it covers the step, every callback's hooks and the data loading, and not
the report made when training ends (``diagnosis_cost.py`` measures that).

The third arm, a callback doing nothing in the hooks deadpan uses, shows what the framework's hook dispatch
alone costs: on a ~1 ms Lightning step, about 2-3%.

Trainings: the digits MLP of ``tests/frameworks/scripts/lightning_digits.py`` under Lightning (as in the
tests, and 8x wider on 4x larger batches), the tiny BERT of ``tests/frameworks/scripts/hf_tiny.py`` under
the Trainer (CPU, 1 torch thread).

    .venv/bin/python benchmarks/framework_callbacks.py [--repeats 11] [--steps 200] [--only lightning|hf]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "frameworks" / "scripts"))

import torch

SKIP = 10
#: The training thread's CPU time (other processes' load on a shared machine does not stretch it; with one
#: torch thread and no DataLoader workers the step's whole work runs on this thread). ``--wall`` uses
#: wall-clock time instead.
CLOCK = time.thread_time


def _median_step(starts: list[float]) -> tuple[float, float]:
    """Median and mean step time of a block (the mean carries the sampled steps' and live checks' work)."""
    gaps = [b - a for a, b in zip(starts[SKIP:], starts[SKIP + 1 :], strict=False)]
    return statistics.median(gaps), statistics.mean(gaps)


def lightning_block(arm: str, steps: int, hidden: int = 128, batch: int = 32) -> tuple[float, float]:
    import lightning.pytorch as L
    import lightning_digits

    from deadpan.lightning import DeadpanCallback

    starts: list[float] = []

    class Timing(L.Callback):
        def on_train_batch_start(self, *args: Any) -> None:
            starts.append(CLOCK())

    class NoOp(L.Callback):
        """A callback in the hooks deadpan uses, doing nothing: what Lightning's hook dispatch costs."""

        def on_train_batch_start(self, *args: Any) -> None:
            pass

        def on_before_optimizer_step(self, *args: Any) -> None:
            pass

        def on_train_batch_end(self, *args: Any) -> None:
            pass

    callbacks: list[Any] = [Timing()]
    if arm == "deadpan":
        callbacks.append(DeadpanCallback(print_report=False, probes=False))
    elif arm == "noop":
        callbacks.append(NoOp())
    torch.manual_seed(0)
    train, _ = lightning_digits.loaders(batch)
    trainer = lightning_digits.trainer(steps, callbacks)
    trainer.limit_val_batches = 0
    trainer.fit(lightning_digits.Digits(hidden=hidden), train)
    return _median_step(starts)


def hf_block(arm: str, steps: int) -> tuple[float, float]:
    import hf_tiny
    from transformers import TrainerCallback

    from deadpan.hf import DeadpanCallback

    starts: list[float] = []

    class Timing(TrainerCallback):
        def on_step_begin(self, *args: Any, **kwargs: Any) -> None:
            starts.append(CLOCK())

    class NoOp(TrainerCallback):
        def on_step_begin(self, *args: Any, **kwargs: Any) -> None:
            pass

        def on_pre_optimizer_step(self, *args: Any, **kwargs: Any) -> None:
            pass

        def on_step_end(self, *args: Any, **kwargs: Any) -> None:
            pass

    callbacks: list[Any] = [Timing()]
    if arm == "deadpan":
        callbacks.append(DeadpanCallback(print_report=False, probes=False))
    elif arm == "noop":
        callbacks.append(NoOp())
    with tempfile.TemporaryDirectory() as out:
        trainer = hf_tiny.trainer(steps, callbacks, out)
        trainer.args.eval_strategy = "no"
        trainer.args.logging_steps = 50
        trainer.train()
    return _median_step(starts)


ARMS = ("plain", "noop", "deadpan")


def measure(name: str, block: Any, repeats: int, steps: int) -> None:
    """Blocks of the three arms in a rotating order (plain, no-op, deadpan; no-op, deadpan, plain; ...)."""
    times: dict[str, list[tuple[float, float]]] = {arm: [] for arm in ARMS}
    for arm in ARMS:  # warm-up: imports, first-call costs
        block(arm, 30)
    for r in range(repeats):
        for arm in ARMS[r % 3 :] + ARMS[: r % 3]:
            times[arm].append(block(arm, steps))
    plain, noop, watched = times["plain"], times["noop"], times["deadpan"]
    ratios = [w[0] / p[0] for w, p in zip(watched, plain, strict=True)]
    p, w = statistics.median(x[0] for x in plain), statistics.median(x[0] for x in watched)
    n = statistics.median(x[0] for x in noop)
    pm, wm = statistics.median(x[1] for x in plain), statistics.median(x[1] for x in watched)
    spread = f"{min(ratios):.3f}–{max(ratios):.3f}"
    print(
        f"| {name} | {p * 1e3:.2f} | {w * 1e3:.2f} | **{w / p:.3f}** | {spread} | {wm / pm:.3f} "
        f"| {n / p:.3f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--only", choices=["lightning", "hf"], default=None)
    parser.add_argument(
        "--wall", action="store_true", help="wall-clock step times instead of thread CPU time"
    )
    args = parser.parse_args()
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    import logging

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    print(f"step times: {'wall clock' if args.wall else 'training thread CPU time'}")
    print(
        "| training | plain ms/step | with deadpan ms/step | ratio of medians | per-pair ratios "
        "| ratio of mean step times | no-op callback, ratio of medians |"
    )
    print("|---|---|---|---|---|---|---|")
    if args.only in (None, "lightning"):
        measure("Lightning, digits MLP 64-128-128-10, batch 32", lightning_block, args.repeats, args.steps)

        def wider(arm: str, steps: int) -> tuple[float, float]:
            return lightning_block(arm, steps, hidden=1024, batch=128)

        measure("Lightning, digits MLP 64-1024-1024-10, batch 128", wider, args.repeats, args.steps)
    if args.only in (None, "hf"):
        measure("HF Trainer, tiny BERT, batch 32", hf_block, args.repeats, args.steps)


if __name__ == "__main__":
    main()
