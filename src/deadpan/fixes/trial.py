"""Train one trial setup for its budget and measure it on the held-out batches.

The same function runs in this process, in a worker process and as a Ray task. It trains a deep copy of the
setup's model, seeds torch itself and restores the caller's random state afterwards, so a trial run in the
user's process leaves no trace there. The trial's metrics (:func:`measured`) are framework-free, shared with
the Keras trials; torch is imported only to train a PyTorch one.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from deadpan.diagnosis import is_collapsed
from deadpan.evidence import Task
from deadpan.fixes.base import TrialSetup
from deadpan.probes.arrays import to_numpy
from deadpan.probes.outputs import output_probe
from deadpan.probes.rng import preserved_rng

if TYPE_CHECKING:
    import torch


class TrialTimeout(Exception):
    """The trial ran past its time limit."""


@dataclass(frozen=True)
class TrialMetrics:
    """A trained trial, measured on the held-out batches."""

    distinct_predictions: int
    majority_share: float
    #: Balanced accuracy (classification) or R^2 (regression), and the input-independent baseline's.
    score: float
    chance_score: float
    loss: float
    collapsed: bool
    steps: int
    seconds: float
    #: The training loss became NaN/inf and training stopped.
    diverged: bool = False

    @property
    def normalized(self) -> float:
        """Score rescaled so that the input-independent answer is 0 and perfect is 1."""
        return (self.score - self.chance_score) / max(1.0 - self.chance_score, 1e-12)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, float):
                d[k] = round(v, 4) if math.isfinite(v) else None
        return d


def _forward(model: torch.nn.Module, batch: Any, setup: TrialSetup) -> torch.Tensor:
    args, kwargs, _ = batch
    return setup.adapt(model(*args, **kwargs))


#: Steps between two progress reports of a trial.
REPORT_EVERY = 10


def train_torch_trial(
    setup: TrialSetup,
    time_limit: float | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> TrialMetrics:
    """Train a copy of ``setup.model`` for ``setup.steps`` steps and measure it; raise :class:`TrialTimeout`
    past ``time_limit`` seconds. ``on_step(done, total)`` is called every few steps."""
    import torch

    from deadpan.probes.forward import run_model

    t0 = time.perf_counter()
    # The control reproduces the user's bugs, and with them the warnings the user's run already printed.
    with preserved_rng(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(setup.seed)
        model = copy.deepcopy(setup.model)
        opt = setup.optimizer.build(model)
        model.train(setup.loop.train_mode)
        loop = setup.loop
        diverged = False
        done = 0
        for i in range(setup.steps):
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                raise TrialTimeout(f"the trial ran past its {time_limit:g} s limit after {i} steps")
            batch = setup.train[i % len(setup.train)] if loop.fresh_batches else setup.train[0]
            loss = setup.loss_fn(_forward(model, batch, setup), batch[2])
            if not torch.isfinite(loss):
                diverged = True
                break
            if loop.zero_grad:
                opt.zero_grad()
            if loop.backward and loss.requires_grad:
                loss.backward()
            if loop.step:
                opt.step()
            done = i + 1
            if on_step is not None and (done % REPORT_EVERY == 0 or done == setup.steps):
                on_step(done, setup.steps)
        model.eval()
        out, target = run_model(model, list(setup.heldout), setup.adapt)
        with torch.no_grad():
            held_loss = float(setup.loss_fn(out, target)) if bool(torch.isfinite(out).all()) else math.inf
    seconds = time.perf_counter() - t0
    return measured(setup.task, to_numpy(out), to_numpy(target), held_loss, done, seconds, diverged)


def measured(
    task: Task,
    out: np.ndarray,
    target: np.ndarray,
    loss: float,
    steps: int,
    seconds: float,
    diverged: bool,
) -> TrialMetrics:
    """A trained trial's metrics from its held-out outputs and targets (either framework's trial)."""
    probe = output_probe(task, out, target)
    return TrialMetrics(
        distinct_predictions=probe.distinct_predictions,
        majority_share=probe.majority_share,
        score=probe.score,
        chance_score=probe.chance_score,
        loss=loss,
        collapsed=is_collapsed(probe, task.kind == "regression"),
        steps=steps,
        seconds=seconds,
        diverged=diverged,
    )
