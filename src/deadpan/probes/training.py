"""Probes that train a copy: overfit one batch (Karpathy's recipe) and an LR range test (Smith 2017).

Both work on their own deep copy of the model. Any randomness they use (dropout) comes from the global RNG,
whose state the caller saves and restores around all probes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from deadpan.evidence import LRRangeProbe, OverfitProbe, Task
from deadpan.probes.outputs import Adapter, Batch
from deadpan.probes.task import predictions, score
from deadpan.probes.tensors import slice_rows

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

#: Overfit-one-batch (Karpathy 2019, "A recipe for training neural networks"): 16 samples, Adam, 30 steps.
#: 3e-3 rather than the usual 3e-4 so that 30 steps suffice on a batch this small.
OVERFIT_ROWS = 16
OVERFIT_STEPS = 30
OVERFIT_LR = 3e-3
#: LR range test: geometric sweep over this range in this many steps; "diverged" once the smoothed loss
#: exceeds this multiple of its start (fast.ai's lr_find stops at 4x).
LR_START, LR_END, LR_STEPS = 1e-6, 10.0, 40
#: Rows of each captured batch used per LR range step: the sweep needs the loss trend, not full batches.
LR_ROWS = 32
DIVERGE_FACTOR = 4.0


def _forward(model: nn.Module, batch: Batch, adapt: Adapter) -> torch.Tensor:
    args, kwargs, _ = batch
    return adapt(model(*args, **kwargs))


def _trainable(model: nn.Module) -> list[nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def overfit_one_batch(
    model: nn.Module, batch: Batch, adapt: Adapter, loss_fn: LossFn, task: Task
) -> OverfitProbe | None:
    params = _trainable(model)
    if not params:
        return None
    small = (slice_rows(batch[0], OVERFIT_ROWS), slice_rows(batch[1], OVERFIT_ROWS), batch[2][:OVERFIT_ROWS])
    opt = torch.optim.Adam(params, lr=OVERFIT_LR)
    model.train()

    def measure() -> tuple[float, float]:
        with torch.no_grad():
            out = _forward(model, small, adapt)
            loss = float(loss_fn(out, small[2]))
            s, _ = score(task, predictions(task, torch.nan_to_num(out), small[2]))
        return loss, s

    first_loss, first_score = measure()
    for _ in range(OVERFIT_STEPS):
        opt.zero_grad()
        loss = loss_fn(_forward(model, small, adapt), small[2])
        if not torch.isfinite(loss):
            break
        loss.backward()
        opt.step()
    last_loss, last_score = measure()
    return OverfitProbe(OVERFIT_STEPS, first_loss, last_loss, first_score, last_score)


def make_optimizer(template: torch.optim.Optimizer | None, params: list[nn.Parameter], lr: float) -> Any:
    """A fresh optimizer of the user's class with the user's hyper-parameters but ``lr``."""
    if template is not None:
        group = template.param_groups[0]
        keep = {k: v for k, v in group.items() if k in template.defaults and k not in ("params", "lr")}
        try:
            return type(template)(params, lr=lr, **keep)  # type: ignore[call-arg]
        except Exception:
            pass
    return torch.optim.SGD(params, lr=lr, momentum=0.9)


def lr_sweep(step: Callable[[int, float], float], user_lr: float | None) -> LRRangeProbe:
    """The range test's schedule and stopping rule, framework-free: ``step(i, lr)`` sets the learning rate,
    computes the loss on batch ``i``, takes one optimizer step and returns the loss before the update (it
    may skip the update once the loss is not finite)."""
    factor = (LR_END / LR_START) ** (1 / (LR_STEPS - 1))
    lrs: list[float] = []
    losses: list[float] = []
    smooth = 0.0
    start: float | None = None
    diverge: float | None = None
    best_lr, best = None, math.inf
    for i in range(LR_STEPS):
        lr = LR_START * factor**i
        value = step(i, lr)
        lrs.append(lr)
        losses.append(value)
        if not math.isfinite(value):
            diverge = lr
            break
        smooth = 0.8 * smooth + 0.2 * value
        corrected = smooth / (1 - 0.8 ** (i + 1))
        if start is None:
            start = corrected
        # The smoothed loss lags: a loss that explodes in the sweep's last steps (or jumps to a plateau,
        # as a clipped Keras loss does) is caught by two raw losses in a row above the same bound.
        raw_up = len(losses) >= 2 and min(losses[-2:]) > DIVERGE_FACTOR * max(start, 1e-8)
        if corrected > DIVERGE_FACTOR * max(start, 1e-8) or raw_up:
            diverge = lr
            break
        if corrected < best:
            best, best_lr = corrected, lr
    # fast.ai's rule: a tenth of the LR at the loss minimum (the minimum itself is already too high).
    suggested = best_lr / 10 if best_lr is not None and best_lr > LR_START * factor * 2 else None
    return LRRangeProbe(tuple(lrs), tuple(losses), suggested, diverge, user_lr)


def lr_range_test(
    model: nn.Module,
    batches: Sequence[Batch],
    adapt: Adapter,
    loss_fn: LossFn,
    template: torch.optim.Optimizer | None,
    user_lr: float | None,
) -> LRRangeProbe | None:
    params = _trainable(model)
    if not params or not batches:
        return None
    opt = make_optimizer(template, params, LR_START)
    model.train()

    def step(i: int, lr: float) -> float:
        for g in opt.param_groups:
            g["lr"] = lr
        full = batches[i % len(batches)]
        batch = (slice_rows(full[0], LR_ROWS), slice_rows(full[1], LR_ROWS), full[2][:LR_ROWS])
        opt.zero_grad()
        loss = loss_fn(_forward(model, batch, adapt), batch[2])
        value = float(loss.detach())
        if math.isfinite(value):
            loss.backward()
            opt.step()
        return value

    return lr_sweep(step, user_lr)
