"""Step-time overhead of :class:`deadpan.keras.DeadpanCallback`: median step time of ``fit`` with the callback
vs the same ``fit`` without it, on the Keras backend ``KERAS_BACKEND`` selects.

Blocks of ``fit`` calls alternate (plain, with the callback; with the callback, plain; ...) on one model
in one process, so that CPU frequency, caches and the machine's other load hit both alike; the figure is the
ratio of the median per-step times over all blocks (with the range of the per-block ratios), in wall time
and in the process's CPU time (which other processes' load on a shared machine does not stretch).

What is measured: the step time, as the interval between consecutive ``on_train_batch_begin`` calls of a
timing callback inside one epoch. That covers the train step, every callback's batch hooks (deadpan's loss
read and its sampled weight snapshots) and the data iteration; the first step of each epoch is left out,
and so is everything outside the steps: ``on_train_begin`` (deadpan's copy of the initial weights and its
sample of the training data) and ``on_train_end`` (the diagnosis; its cost is measured by
``diagnosis_cost.py``). The timing callback is ``async_safe`` and has no ``on_train_batch_end``, so it does
not stop Keras from dispatching batch-end callbacks asynchronously in the plain blocks (backends that allow
it: torch, jax); ``DeadpanCallback`` does, and that cost is part of the figure.

Two ways, as ``overhead.py``:

- steady: one deadpan run for all the blocks with the callback, as in a long training, where the dense
  sampling of the first steps is amortised (the callback is given that run, as ``deadpan run`` does, so no
  report is built after each block);
- fresh: a new ``DeadpanCallback(print_report=False, probes=False)`` for every block, so each block pays
  the dense sampling of a run's first steps again (an upper bound for short trainings); its end-of-fit
  diagnosis runs after the last step and is not in the figure.

    KERAS_BACKEND=tensorflow .venv/bin/python benchmarks/keras_callback.py [--repeats 7] [--epochs 3]
    KERAS_BACKEND=torch .venv/bin/python benchmarks/keras_callback.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from deadpan.keras import DeadpanCallback
from deadpan.keras.run import KerasRun


class StepTimer(keras.callbacks.Callback):  # type: ignore[misc]
    """Intervals between consecutive ``on_train_batch_begin`` calls within an epoch, in wall time and in
    this process's CPU time (all its threads; unlike wall time, not stretched by other processes' load)."""

    #: Safe for Keras' asynchronous batch-end dispatch (it has no batch-end hook at all).
    async_safe = True

    def __init__(self) -> None:
        super().__init__()
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self._last: tuple[float, float] | None = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._last = None

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        now = (time.perf_counter(), time.process_time())
        if self._last is not None:
            self.wall.append(now[0] - self._last[0])
            self.cpu.append(now[1] - self._last[1])
        self._last = now


Data = tuple[Any, np.ndarray, np.ndarray, int]


def mlp() -> Data:
    """A small MLP on the digits data set (1797 8x8 images as 64 features, 10 classes)."""
    try:
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y = (digits.data / 16.0).astype("float32"), digits.target.astype("int64")
    except ImportError:  # the same shapes
        rng = np.random.default_rng(0)
        x, y = rng.random((1797, 64), dtype=np.float32), rng.integers(0, 10, 1797)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    return model, x, y, 32


def cnn() -> Data:
    """A small CNN on 28x28 one-channel images (MNIST-sized), as ``overhead.py``'s."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(1024, 28, 28, 1)).astype("float32"), rng.integers(0, 10, 1024)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    return model, x, y, 32


Times = tuple[list[float], list[float]]


def _fit(model: Any, x: np.ndarray, y: np.ndarray, batch: int, epochs: int, callbacks: list[Any]) -> Times:
    timer = StepTimer()
    model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0, callbacks=[*callbacks, timer])
    return timer.wall, timer.cpu


def measure(
    name: str, make: Callable[[], Data], repeats: int, epochs: int, fresh: bool
) -> tuple[float, float]:
    """(wall-time ratio, CPU-time ratio) of the median step with the callback to the median plain step."""
    keras.utils.set_random_seed(0)
    model, x, y, batch = make()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    _fit(model, x, y, batch, 1, [])  # warm-up: builds the train function
    run = KerasRun(model)
    plain: Times = ([], [])
    watched: Times = ([], [])
    ratios = []
    for r in range(repeats):
        cb = DeadpanCallback(print_report=False, probes=False) if fresh else DeadpanCallback(_run=run)
        if r % 2:  # callback first every other repeat, so a drift in machine speed cancels out
            w = _fit(model, x, y, batch, epochs, [cb])
            p = _fit(model, x, y, batch, epochs, [])
        else:
            p = _fit(model, x, y, batch, epochs, [])
            w = _fit(model, x, y, batch, epochs, [cb])
        for i in (0, 1):
            plain[i].extend(p[i])
            watched[i].extend(w[i])
        ratios.append(statistics.median(w[0]) / statistics.median(p[0]))
    wall = statistics.median(watched[0]) / statistics.median(plain[0])
    cpu = statistics.median(watched[1]) / statistics.median(plain[1])
    steps = len(plain[0]) // repeats
    kind = "fresh" if fresh else "steady"
    print(
        f"{name:4s} {kind:6s} plain {1e3 * statistics.median(plain[0]):7.3f} ms/step  "
        f"callback {1e3 * statistics.median(watched[0]):7.3f} ms/step  ratio {wall:.3f}  "
        f"(per-block {min(ratios):.3f}..{max(ratios):.3f}; CPU-time ratio {cpu:.3f}; "
        f"{repeats} blocks x {epochs} epochs, {steps} timed steps a block)"
    )
    return wall, cpu


def _one_thread() -> None:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    elif backend == "torch":
        import torch

        torch.set_num_threads(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7, help="blocks of each kind, alternating")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per block")
    ap.add_argument("--threads", type=int, default=1, help="1: one backend thread (steadiest); 0: default")
    args = ap.parse_args()
    if args.threads == 1:
        _one_thread()
    print(
        f"keras {keras.__version__}, backend {keras.backend.backend()}, threads {args.threads or 'default'}"
    )
    out = {}
    for fresh in (False, True):
        out[("MLP", fresh)] = measure("MLP", mlp, args.repeats, args.epochs, fresh)
        out[("CNN", fresh)] = measure("CNN", cnn, args.repeats, args.epochs, fresh)
    backend = keras.backend.backend()
    for i, clock in enumerate(("wall", "CPU")):
        print(
            f"median step-time ratio callback/plain on {backend}, {clock} time (target <= 1.05): "
            f"steady MLP {out['MLP', False][i]:.3f}, CNN {out['CNN', False][i]:.3f}; fresh callback per "
            f"{args.epochs}-epoch fit MLP {out['MLP', True][i]:.3f}, CNN {out['CNN', True][i]:.3f}"
        )


if __name__ == "__main__":
    main()
