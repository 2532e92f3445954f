"""The user's torch loss as deadpan sees it: the output adapter that maps the model's raw output to what the
loss received, and the loss rebuilt for probes and fix trials (from the recorded first call,
:mod:`deadpan.capture.loss_record`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from deadpan.capture.loss_record import LossRecord
from deadpan.evidence import Task
from deadpan.probes.arrays import to_numpy
from deadpan.probes.forward import Adapter, main_output
from deadpan.probes.task import infer_task
from deadpan.probes.tensors import tensors_in

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


#: Losses that compare a model's outputs with each other (metric learning): the outputs are embeddings with no
#: target of their own, judged by their spread (:mod:`deadpan.capture.targetless`).
EMBEDDING_LOSSES = ("cosine_embedding_loss", "triplet_margin_loss")


@dataclass(frozen=True)
class OutputAdapter:
    """Maps the model's raw output to what the loss received (see :func:`make_adapter`). A class rather than
    a closure so that fix trials can send it to worker processes."""

    #: The loss input's shape per row, and whether it is floating point.
    rows: tuple[int, ...]
    floating: bool
    #: Loss rows per sample (:attr:`LossRecord.fold`): the output is given back as ``[B, *rows, fold]``.
    fold: int = 1

    def _fit(self, out: torch.Tensor) -> torch.Tensor:
        shape = tuple(int(s) for s in out.shape[1:])
        if shape == self.rows:
            return out
        if sorted(shape) == sorted(self.rows) and len(set(self.rows)) == len(self.rows):
            return out.permute(0, *(shape.index(r) + 1 for r in self.rows))
        return out.reshape(out.shape[0], *self.rows)

    def __call__(self, raw: Any) -> torch.Tensor:
        kind = [t for t in tensors_in(raw) if t.dim() > 0 and t.is_floating_point() == self.floating]
        if self.fold > 1:
            return self._unfolded(kind, raw)
        for t in kind:
            if tuple(t.shape[1:]) == self.rows:
                return t
        per_row = math.prod(self.rows)
        for t in kind:
            if math.prod(t.shape[1:]) == per_row:
                return self._fit(t)
        return main_output(raw)

    def _unfolded(self, kind: list[torch.Tensor], raw: Any) -> torch.Tensor:
        """A flattened per-position loss: the output tensor with ``fold`` positions of ``rows`` per sample
        (positions first, as the flattening read them), given back in PyTorch's per-position layout
        ``[B, *rows, fold]`` (classes on axis 1, as ``cross_entropy`` takes them unflattened)."""
        per_sample = self.fold * math.prod(self.rows)
        for t in kind:
            if math.prod(t.shape[1:]) == per_sample:
                return t.reshape(t.shape[0], self.fold, *self.rows).movedim(1, -1)
        return main_output(raw)


def make_adapter(loss: LossRecord | None) -> Adapter:
    """Map the model's raw output to what the loss received.

    Out of a tuple, dict or dataclass output it takes the tensor the loss took: the first whose per-row
    shape and kind (floating or integer) are the loss input's, else the first with as many elements per row,
    else the main tensor (:func:`first_tensor`). Then it undoes the change between model and loss: the same
    dims in another order are permuted back (``out.transpose(1, 2)`` into a per-position cross-entropy),
    another shape of the same size is reshaped (a squeeze or view). A flattened per-position loss
    (:attr:`LossRecord.fold`) gets the output as ``[B, *rows, positions]``, its targets ``[B, positions]``.
    """
    if loss is None:
        return main_output
    rows = tuple(int(s) for s in loss.input.shape[1:])
    return OutputAdapter(rows, loss.input.is_floating_point(), loss.fold)


@dataclass(frozen=True)
class RecordedLoss:
    """The user's ``torch.nn.functional`` loss with the keyword arguments of the recorded call."""

    function: str
    kwargs: dict[str, Any]
    #: :attr:`LossRecord.fold`: outputs ``[B, *rows, T]`` (the adapter's) and targets ``[B, T, ...]`` are
    #: flattened back to the ``[B*T, ...]`` the user's call took.
    fold: int = 1

    def __call__(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.fold > 1:
            out, target = out.movedim(-1, 1).flatten(0, 1), target.flatten(0, 1)
        return getattr(F, self.function)(out, target, **self.kwargs)


@dataclass(frozen=True)
class TaskLoss:
    """The standard loss of a task, for a run whose loss deadpan did not see: cross-entropy, binary
    cross-entropy on logits, or MSE."""

    kind: str

    def __call__(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.kind == "multiclass":
            return F.cross_entropy(out, target.long())
        if self.kind in ("binary", "multilabel"):
            return F.binary_cross_entropy_with_logits(out.reshape(target.shape), target.float())
        return F.mse_loss(out.reshape(target.shape).float(), target.float())


def task_of(loss: LossRecord | None, out: torch.Tensor, target: torch.Tensor) -> Task:
    """The task of the model's (adapted) output and target under the recorded loss (its ``ignore_index``
    included)."""
    o, t = to_numpy(out), to_numpy(target)
    if loss is None:
        return infer_task(None, o, t)
    ignore = loss.kwargs.get("ignore_index")
    return infer_task(loss.function, o, t, int(ignore) if isinstance(ignore, int) else None)


def make_loss_fn(loss: LossRecord | None, task: Task) -> LossFn:
    """The user's loss function rebuilt from the recorded call, or a standard one for the task."""
    if loss is not None and hasattr(F, loss.function):
        return RecordedLoss(loss.function, dict(loss.kwargs), loss.fold)
    return TaskLoss(task.kind)
