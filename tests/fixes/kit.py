"""Small trainings for the fix-trial tests: a separable 3-class problem and the setups built from it."""

from __future__ import annotations

import torch
from torch import nn

from deadpan.capture.losses import TaskLoss
from deadpan.evidence import Task
from deadpan.fixes.base import Batch, LoopSpec, OptimizerSpec, TrialSetup
from deadpan.probes.forward import main_output


def blobs(n: int = 600, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[3.0, 0.0, 0.0, 0.0], [0.0, 3.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0]])
    y = torch.randint(0, 3, (n,), generator=g)
    return centres[y] + torch.randn(n, 4, generator=g), y


def batches(x: torch.Tensor, y: torch.Tensor, size: int = 32) -> tuple[Batch, ...]:
    return tuple(((x[i : i + size],), {}, y[i : i + size]) for i in range(0, len(x), size))


def mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))


def setup(model: nn.Module | None = None, lr: float = 0.05, steps: int = 100, **kw: object) -> TrialSetup:
    x, y = blobs()
    base = TrialSetup(
        model=model if model is not None else mlp(),
        train=batches(x[:480], y[:480]),
        heldout=batches(x[480:], y[480:]),
        loss_fn=TaskLoss("multiclass"),
        adapt=main_output,
        optimizer=OptimizerSpec(torch.optim.SGD, {"momentum": 0.9}, lr),
        loop=LoopSpec(),
        steps=steps,
        task=Task("multiclass", 3, 3),
    )
    return base.but("test", **kw) if kw else base
