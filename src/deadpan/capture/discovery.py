"""What the user's loop works with, found without being told: the model an optimizer steps, the dataset a
DataLoader batches from (or the tensor a hand-written loop indexes its batches from), and the target of a loss
written by hand.

Each is looked for a bounded number of times, by reading references the loop already holds: nothing here
copies the user's data or changes a value.
"""

from __future__ import annotations

import collections
import gc
import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

#: Without a DataLoader, the dataset a batch comes from is the tensor the loop indexes it from (``x[idx]``).
#: It is looked for at most this many times (sampled steps whose batch is a new tensor), in the variables of
#: this many of the loop's frames, and only tensors up to this many elements are scanned for the batch's
#: rows: one comparison of a row against each candidate, so the cost is bounded and paid a few times a run.
#: (Reading a function frame's ``f_locals`` before Python 3.13 leaves a snapshot of its variables on the
#: frame: at most one batch more stays alive until the loop's function returns; nothing changes its values.)
SOURCE_SEARCHES = 3
SOURCE_FRAMES = 4
SOURCE_MAX_ELEMENTS = 2**26
#: Frames of these directories (torch, deadpan's capture) are not the user's loop.
_NOT_USER = (os.path.dirname(torch.__file__) + os.sep, os.path.dirname(__file__) + os.sep)


def _holds_row(source: torch.Tensor, row: torch.Tensor) -> bool:
    """Whether ``row`` equals one of ``source``'s rows (one vectorised comparison)."""
    same = source == row.to(source.device)
    return bool(same.reshape(source.shape[0], -1).all(1).any())


def batch_source_rows(x: torch.Tensor, frame: Any) -> int | None:
    """Rows of the tensor the loop took the batch ``x`` from, when it indexes one itself (no DataLoader).

    The tensor ``x`` is a view of (``x = data[i:i + n]``), else, since ``data[idx]`` copies, the smallest
    tensor among the variables of the loop's frames (from ``frame`` outwards, skipping torch and deadpan's
    capture) with ``x``'s row shape and dtype, more rows than ``x``, and ``x``'s first, middle and last rows
    among its rows. None when there is no such tensor.
    """
    rows = int(x.shape[0]) if x.dim() >= 2 else 0
    if rows == 0 or x[0].numel() < 2:
        return None  # scalar rows: equal values say nothing about where a batch came from
    base = x._base
    if isinstance(base, torch.Tensor) and base.dim() == x.dim() and base.shape[1:] == x.shape[1:]:
        return int(base.shape[0]) if base.shape[0] > rows else None
    probes = [x[i] for i in sorted({0, rows // 2, rows - 1})]
    best: int | None = None
    seen: set[int] = {id(x)}
    user_frames = 0
    try:
        while frame is not None and user_frames < SOURCE_FRAMES:
            if not frame.f_code.co_filename.startswith(_NOT_USER):
                user_frames += 1
                for scope in (frame.f_locals, frame.f_globals):
                    for value in list(scope.values()):
                        if id(value) in seen or type(value) is not torch.Tensor:  # parameters are not data
                            continue
                        seen.add(id(value))
                        n = int(value.shape[0]) if value.dim() else 0
                        if (
                            value.dim() != x.dim()
                            or value.shape[1:] != x.shape[1:]
                            or value.dtype != x.dtype
                            or n <= rows
                            or (best is not None and n >= best)
                            or value.numel() > SOURCE_MAX_ELEMENTS
                        ):
                            continue
                        if all(_holds_row(value, row) for row in probes):
                            best = n
            frame = frame.f_back
    finally:
        del frame
    return best


@dataclass(frozen=True)
class LoaderSource:
    """The first map-style DataLoader's dataset and how it batches. A reference only: a fix trial for a loop
    that trained on one batch over and over draws fresh batches from it (see
    :func:`deadpan.fixes.batches.drawn_batches`); :func:`deadpan.script.autolog.run_callable` drops it once
    the report is done."""

    dataset: Any
    collate_fn: Any
    batch_size: int


def owning_module(params: set[int]) -> nn.Module | None:
    """The root nn.Module holding the most of ``params``: the model an optimizer steps."""
    candidates: list[tuple[int, nn.Module]] = []
    for obj in gc.get_objects():
        if issubclass(type(obj), nn.Module):
            try:
                mine = sum(1 for p in obj.parameters() if id(p) in params)
            except Exception:
                continue
            if mine:
                candidates.append((mine, obj))
    if not candidates:
        return None
    best = max(c[0] for c in candidates)
    tops = [m for n, m in candidates if n == best]
    # Among modules covering the same parameters, the root is the one not contained in another.
    for m in tops:
        if not any(m is not o and any(sub is m for sub in o.modules()) for o in tops):
            return m
    return tops[0]


def target_in_batch(batch: Any, x: torch.Tensor) -> torch.Tensor | None:
    """The target in a batch a DataLoader yielded, for a loss written by hand: the ``labels`` (``label``,
    ``targets``, ``target``, ``y``) of a dict batch, else the one other tensor of a tuple batch beside the
    model's input ``x``, with as many rows. None when there is no such single tensor."""
    if isinstance(batch, dict):
        for key in ("labels", "label", "targets", "target", "y"):
            t = batch.get(key)
            if isinstance(t, torch.Tensor):
                return t
        return None
    if not isinstance(batch, tuple | list):
        return None
    tensors = [t for t in batch if isinstance(t, torch.Tensor)]
    inputs = [t for t in tensors if t is x or (t.shape == x.shape and t.dtype == x.dtype)]
    others = [t for t in tensors if all(t is not i for i in inputs)]
    if len(inputs) == 1 and len(others) == 1 and others[0].dim() > 0 and others[0].shape[0] == x.shape[0]:
        return others[0]
    return None


#: Autograd nodes walked back from a loss to find the parameters it trains: a few thousand covers the
#: models deadpan diagnoses on CPU in well under a millisecond; a larger graph is walked this far only.
GRAPH_NODES = 5000


def nearest_parameter(t: torch.Tensor, among: set[int]) -> int | None:
    """The id of the parameter in ``among`` nearest to ``t`` in its autograd graph (breadth first from
    ``t.grad_fn``): the last trained layer that ``t`` came out of, so the model whose output ``t`` is."""
    node = t.grad_fn
    if node is None:
        return None
    seen, todo = {node}, collections.deque([node])
    while todo and len(seen) < GRAPH_NODES:
        fn = todo.popleft()
        variable = getattr(fn, "variable", None)
        if isinstance(variable, torch.Tensor) and id(variable) in among:
            return id(variable)
        for nxt, _ in fn.next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return None


def reaches(loss: torch.Tensor, among: set[int]) -> bool:
    """Whether a ``backward`` from ``loss`` reaches one of the parameters ``among`` (stops at the first)."""
    return nearest_parameter(loss, among) is not None


def parameters_reached(loss: torch.Tensor) -> set[int]:
    """The ids of the leaf tensors (parameters) that a ``backward`` from ``loss`` reaches, read from its
    autograd graph (``grad_fn`` chain to ``AccumulateGrad`` nodes); empty for a tensor without a graph."""
    reached: set[int] = set()
    node = loss.grad_fn
    if node is None:
        return reached
    seen, todo = {node}, [node]
    while todo and len(seen) < GRAPH_NODES:
        fn = todo.pop()
        variable = getattr(fn, "variable", None)
        if isinstance(variable, torch.Tensor):
            reached.add(id(variable))
        for nxt, _ in fn.next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return reached
