"""Probes that train a copy of a torch model: overfit one batch (Karpathy's recipe) and an LR range test
(Smith 2017), by the recipes of :mod:`deadpan.probes.recipes`.

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
from deadpan.probes.arrays import to_numpy
from deadpan.probes.forward import Adapter, Batch
from deadpan.probes.recipes import LR_ROWS, LR_START, OVERFIT_LR, OVERFIT_ROWS, OVERFIT_STEPS, lr_sweep
from deadpan.probes.task import predictions, score
from deadpan.probes.tensors import slice_rows

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


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
            s, _ = score(task, predictions(task, to_numpy(torch.nan_to_num(out)), to_numpy(small[2])))
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
