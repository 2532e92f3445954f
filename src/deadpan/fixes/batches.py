"""Helpers for fixes that change the captured data: the batches as one (inputs, targets) pair and back."""

from __future__ import annotations

from collections.abc import Callable

import torch

from deadpan.fixes.base import Batch, NotApplicable


def single_tensor_inputs(batches: tuple[Batch, ...]) -> None:
    """Raise :class:`NotApplicable` unless every batch feeds the model one tensor (``model(x)``)."""
    for args, kwargs, target in batches:
        if kwargs or len(args) != 1 or not isinstance(args[0], torch.Tensor):
            raise NotApplicable("the model takes more than one input tensor, which this fix does not rewrite")
        if not isinstance(target, torch.Tensor):
            raise NotApplicable("the targets are not one tensor")


def stacked(batches: tuple[Batch, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """All rows of ``batches`` as one inputs tensor and one targets tensor."""
    single_tensor_inputs(batches)
    return torch.cat([b[0][0] for b in batches]), torch.cat([b[2] for b in batches])


def rebatched(x: torch.Tensor, y: torch.Tensor, batch_size: int) -> tuple[Batch, ...]:
    """``x``/``y`` cut into batches of ``batch_size`` rows (the last may be smaller)."""
    size = max(1, batch_size)
    return tuple(((x[i : i + size],), {}, y[i : i + size]) for i in range(0, len(x), size))


def batch_size(batches: tuple[Batch, ...]) -> int:
    return max(len(b[2]) for b in batches)


def map_inputs(batches: tuple[Batch, ...], fn: Callable[[torch.Tensor], torch.Tensor]) -> tuple[Batch, ...]:
    """Each batch with its one input tensor passed through ``fn``."""
    single_tensor_inputs(batches)
    return tuple(((fn(b[0][0]),), {}, b[2]) for b in batches)
