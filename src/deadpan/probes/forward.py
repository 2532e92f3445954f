"""Running a torch model on captured batches: its output as the loss received it, and how much that output
depends on the input. What the outputs say (collapsed, how good) is :mod:`deadpan.probes.outputs`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from deadpan.evidence import InputDependence
from deadpan.probes.tensors import first_tensor

Batch = tuple[Any, Any, Any]  # (args, kwargs, target)
#: Maps the model's raw output (a tensor, tuple, dict or dataclass) to the tensor the loss received.
Adapter = Callable[[Any], torch.Tensor]


def main_output(raw: Any) -> torch.Tensor:
    """The model's main output tensor (:func:`first_tensor`): the adapter when nothing more is known."""
    out = first_tensor(raw)
    if out is None:
        raise ValueError("the model's output holds no tensor")
    return out


def run_model(
    model: nn.Module, batches: Sequence[Batch], adapt: Adapter
) -> tuple[torch.Tensor, torch.Tensor]:
    """Outputs (adapted to what the loss saw) and targets over ``batches``, in eval mode without grad."""
    outs, targets = [], []
    with torch.no_grad():
        for args, kwargs, target in batches:
            outs.append(adapt(model(*args, **kwargs)).detach().float().cpu())
            targets.append(target)
    return torch.cat(outs), torch.cat(targets)


def input_dependence(model: nn.Module, batch: Batch, adapt: Adapter) -> InputDependence | None:
    """Output change when the input is zeroed, and when each sample's features are reversed in order,
    relative to the output's own across-sample spread (0 means the output ignores the input)."""
    args, kwargs, _ = batch
    if not args or not isinstance(args[0], torch.Tensor) or not args[0].is_floating_point():
        return None
    x = args[0]

    def out_for(x_new: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            o = adapt(model(x_new, *args[1:], **kwargs))
        return o.float().reshape(len(x_new), -1)

    real = out_for(x)
    scale = float(real.std(0).mean()) + float(real.abs().mean()) * 1e-3 + 1e-12
    zeroed = out_for(torch.zeros_like(x))
    flipped = out_for(x.reshape(len(x), -1).flip(1).reshape(x.shape))
    return InputDependence(
        zeroed_change=float((real - zeroed).abs().mean()) / scale,
        permuted_change=float((real - flipped).abs().mean()) / scale,
    )
