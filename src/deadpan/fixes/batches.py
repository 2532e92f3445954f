"""Helpers for fixes that change the captured torch batches: the batches as one (inputs, targets) pair and
back. A torch module: the fixes import it inside their PyTorch ``apply``, never for a Keras trial."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.utils.data import default_collate

from deadpan.capture.discovery import LoaderSource
from deadpan.fixes.base import Batch, NotApplicable
from deadpan.probes.rng import preserved_rng


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


def drawn_batches(source: LoaderSource, like: Batch, rows: int, seed: int = 0) -> list[Batch]:
    """``rows`` random rows of the user's DataLoader dataset, batched as the loader batches them: fresh data
    for a loop that trained on one batch over and over (the captured batches are that one batch).

    Read-only on the dataset (``dataset[i]`` and the loader's ``collate_fn``); the random state is restored.
    Raise :class:`NotApplicable` unless the batches are (inputs, targets) pairs shaped like ``like``, the
    batch the model was trained on (a loop that reshapes or moves the loader's batches cannot be imitated)."""
    n = len(source.dataset)
    if n < 2:
        raise NotApplicable("the DataLoader's dataset has fewer than two rows")
    collate: Callable[[list[Any]], Any] = source.collate_fn or default_collate
    ref_x, ref_y = like[0][0] if like[0] else None, like[2]
    if not isinstance(ref_x, torch.Tensor) or not isinstance(ref_y, torch.Tensor):
        raise NotApplicable("the batch the model trained on is not one inputs tensor and one targets tensor")
    with preserved_rng(), torch.no_grad():
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[: min(rows, n)].tolist()
        out: list[Batch] = []
        for i in range(0, len(order), source.batch_size):
            batch = collate([source.dataset[j] for j in order[i : i + source.batch_size]])
            if not isinstance(batch, tuple | list) or len(batch) != 2:
                raise NotApplicable("the DataLoader's batches are not (inputs, targets) pairs")
            x, y = batch
            if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)):
                raise NotApplicable("the DataLoader's batches are not (inputs, targets) tensors")
            if x.shape[1:] != ref_x.shape[1:] or x.dtype != ref_x.dtype or y.shape[1:] != ref_y.shape[1:]:
                raise NotApplicable("the loop changes the DataLoader's batches before the model sees them")
            out.append(((x.to(ref_x.device),), {}, y.to(ref_y.device)))
    return out


def map_targets(batches: tuple[Batch, ...], fn: Callable[[torch.Tensor], torch.Tensor]) -> tuple[Batch, ...]:
    """Each batch with its targets passed through ``fn`` (the inputs as they are)."""
    if not all(isinstance(b[2], torch.Tensor) for b in batches):
        raise NotApplicable("the targets are not one tensor")
    return tuple((b[0], b[1], fn(b[2])) for b in batches)
