"""How soon the live alert fires after a collapse starts mid-training, on every path, and how often it fires
on healthy trainings.

Onset: the learning rate is raised (to 5 for SGD on the digits MLP, 1.0 for the tiny BERT) at step
``--raise-at`` of a training that was learning; the delay is the step the alert fired at minus that step
(so it includes the steps the model itself takes to collapse). Paths: a plain PyTorch loop under
``deadpan.watch``-style recording (``run_callable``), the same loop with dropout (checked in inference mode),
Lightning and the Hugging Face Trainer through their callbacks, Keras ``fit`` through its callback (the
backend ``KERAS_BACKEND`` selects). Seeds 0..``--seeds``-1.

False alarms: every healthy twin of the built-in PyTorch scenarios (the scenario's training without its
fault) and the healthy scenarios, run with the live checks on; an alert on any of them is a false alarm.

    .venv/bin/python benchmarks/live_onset.py [--raise-at 200] [--seeds 3] [--skip-twins]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "frameworks" / "scripts"))

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

from deadpan.capture.live import CollapseWarning
from deadpan.script.autolog import run_callable

X, Y = load_digits(return_X_y=True)
XT, YT = torch.tensor(X / 16.0, dtype=torch.float32), torch.tensor(Y)


def torch_loop(seed: int, raise_at: int, steps: int, dropout: float) -> dict[str, Any]:
    def train() -> None:
        torch.manual_seed(seed)
        layers = [nn.Linear(64, 128), nn.ReLU(), nn.Dropout(dropout), nn.Linear(128, 128), nn.ReLU()]
        model = nn.Sequential(*layers, nn.Linear(128, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        g = torch.Generator().manual_seed(seed)
        for step in range(steps):
            if step == raise_at:
                for group in opt.param_groups:
                    group["lr"] = 5.0
            i = torch.randint(0, len(YT), (32,), generator=g)
            loss = nn.functional.cross_entropy(model(XT[i]), YT[i])
            opt.zero_grad()
            loss.backward()
            opt.step()

    return run_callable(train).report.metrics.get("live", {})


def lightning_run(seed: int, raise_at: int, steps: int) -> dict[str, Any]:
    import lightning_digits

    from deadpan.lightning import DeadpanCallback

    cb = DeadpanCallback(print_report=False, probes=False)
    torch.manual_seed(seed)
    train, val = lightning_digits.loaders()
    lightning_digits.trainer(steps, [cb]).fit(lightning_digits.Digits(raise_at), train, val)
    return cb.report.metrics.get("live", {}) if cb.report else {}


def hf_run(seed: int, raise_at: int, steps: int) -> dict[str, Any]:
    import hf_tiny

    from deadpan.hf import DeadpanCallback

    cb = DeadpanCallback(print_report=False, probes=False)
    with tempfile.TemporaryDirectory() as out:
        trainer = hf_tiny.trainer(steps, [hf_tiny.RaiseLearningRate(raise_at), cb], out)
        trainer.args.seed = seed
        torch.manual_seed(seed)
        trainer.train()
    return cb.report.metrics.get("live", {}) if cb.report else {}


def keras_run(seed: int, raise_at: int, steps: int) -> dict[str, Any]:
    import keras

    from deadpan.keras import DeadpanCallback

    keras.utils.set_random_seed(seed)
    x = (X / 16.0).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss=loss)

    class Raise(keras.callbacks.Callback):
        seen = 0

        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            if self.seen == raise_at:
                self.model.optimizer.learning_rate.assign(5.0)
            self.seen += 1

    cb = DeadpanCallback(print_report=False, probes=False)
    epochs = -(-steps // -(-len(x) // 32))
    model.fit(x, Y, batch_size=32, epochs=epochs, verbose=0, callbacks=[Raise(), cb])
    return cb.report.metrics.get("live", {}) if cb.report else {}


def onset(args: argparse.Namespace) -> None:
    paths = {
        "PyTorch loop": lambda s: torch_loop(s, args.raise_at, args.steps, 0.0),
        "PyTorch loop, dropout 0.3": lambda s: torch_loop(s, args.raise_at, args.steps, 0.3),
        "Lightning": lambda s: lightning_run(s, args.raise_at, args.steps),
        "HF Trainer (tiny BERT)": lambda s: hf_run(s, args.raise_at, args.steps),
        f"Keras fit ({os.environ.get('KERAS_BACKEND', 'tensorflow')})": lambda s: keras_run(
            s, args.raise_at, args.steps
        ),
    }
    print(
        f"| path | onset (LR raised) | alert fired at (seeds {', '.join(map(str, range(args.seeds)))}) "
        "| delay (median, max) | check every |"
    )
    print("|---|---|---|---|---|")
    for name, fn in paths.items():
        fired, every = [], []
        for seed in range(args.seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                live = fn(seed)
            fired.append(live.get("detected_at"))
            every.append(live.get("every"))
        delays = [f - args.raise_at for f in fired if f is not None]
        shown = ", ".join("none" if f is None else str(f) for f in fired)
        stat = f"{int(np.median(delays))}, {max(delays)}" if delays else "-"
        print(f"| {name} | {args.raise_at} | {shown} | {stat} | {sorted(set(every))} |", flush=True)


def twins() -> None:
    from deadpan.scenarios.registry import all_scenarios

    alarms, runs = [], 0
    for sc in all_scenarios("torch"):
        trainings = [("healthy", sc.train)] if sc.healthy else []
        twin = sc.twin
        if twin is not None:
            trainings.append(("twin", twin))
        for kind, fn in trainings:
            runs += 1
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                run_callable(fn)
            if any(issubclass(w.category, CollapseWarning) for w in seen):
                alarms.append(f"{sc.name} ({kind})")
    print(
        f"\nfalse alarms on healthy trainings: {len(alarms)}/{runs}"
        + (f": {', '.join(alarms)}" if alarms else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raise-at", type=int, default=200)
    parser.add_argument("--steps", type=int, default=320)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--skip-twins", action="store_true")
    args = parser.parse_args()
    t0 = time.perf_counter()
    onset(args)
    if not args.skip_twins:
        twins()
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
