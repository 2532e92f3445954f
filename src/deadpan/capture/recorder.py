"""The recorder: turns torch events from the user's own loop into bounded, detached statistics.

Rules it keeps (the user's training must end bitwise the same with or without it):
- no random draws: which steps and batches are sampled follows a fixed schedule;
- no extra forward or backward passes; it reads tensors the loop already made, detached;
- bounded memory: batches kept under a byte budget with a doubling stride, series merged pairwise;
- it never raises into the loop (``instrument._safely``), except StopTraining on request.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import math
import os
import sys
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from deadpan.capture import instrument
from deadpan.capture.distributed import unwrap
from deadpan.capture.live import LiveMonitor, inference_output, mode_dependent
from deadpan.capture.tensors import (
    batch_size_of,
    fingerprint,
    first_tensor,
    is_finite,
    nbytes,
    slice_rows,
    to_cpu,
)

#: Steps before this are all sampled; after it, about 20 per decade (see :func:`sampled`).
DENSE_STEPS = 10
#: Batches kept for probes: at most this many bytes and rows (training and held-out each).
SAMPLE_BYTES = 48 * 2**20
SAMPLE_ROWS = 2048
#: Rows taken from any one batch, so one huge batch does not fill the budget.
ROWS_PER_BATCH = 256
#: Points kept per time series; beyond it neighbouring points are merged (bounded memory).
SERIES_POINTS = 512
#: Step durations kept (the first ones: the report's median step time).
STEP_TIMES_KEPT = 4096
#: Snapshot the initial weights for probes only up to this many parameters (memory bound).
SNAPSHOT_MAX_PARAMS = 20_000_000
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
_NOT_USER = (os.path.dirname(torch.__file__) + os.sep, os.path.dirname(instrument.__file__) + os.sep)


def sampled(step: int) -> bool:
    """Deterministic sampling schedule: the first ``DENSE_STEPS`` steps, then about 20 per decade
    (every 5th step up to 100, every 50th up to 1000, ...), so sampled work stays O(log steps)."""
    if step < DENSE_STEPS:
        return True
    period = max(1, 10 ** int(math.log10(step)) // 2)
    return step % period == 0


class Series:
    """A bounded time series: (step, value) points, neighbouring pairs merged when full."""

    def __init__(self, capacity: int = SERIES_POINTS) -> None:
        self.capacity = capacity
        self.steps: list[int] = []
        self.values: list[float] = []
        self._pending: list[tuple[int, torch.Tensor]] = []
        #: First step whose value was NaN/inf, found exactly at flush time (no per-step sync).
        self.first_nonfinite: int | None = None

    def add_tensor(self, step: int, value: torch.Tensor) -> None:
        """Queue a detached scalar tensor; converted in bulk later so no sync per step."""
        self._pending.append((step, value))
        if len(self._pending) >= 256:
            self.flush()

    def add(self, step: int, value: float) -> None:
        self.steps.append(step)
        self.values.append(value)
        if len(self.steps) > self.capacity:
            self._merge()

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        values = torch.stack([v.float().reshape(()) for _, v in pending]).to("cpu").tolist()
        for (step, _), v in zip(pending, values, strict=True):
            if self.first_nonfinite is None and not math.isfinite(v):
                self.first_nonfinite = step
            self.add(step, float(v))

    def _merge(self) -> None:
        steps, values = [], []
        for i in range(0, len(self.steps) - 1, 2):
            a, b = self.values[i], self.values[i + 1]
            steps.append(self.steps[i])
            values.append(
                (a + b) / 2 if math.isfinite(a) and math.isfinite(b) else (b if math.isfinite(a) else a)
            )
        if len(self.steps) % 2:
            steps.append(self.steps[-1])
            values.append(self.values[-1])
        self.steps, self.values = steps, values


def _fibonacci(i: int) -> int:
    """Fibonacci hash of a batch index to 32 bits: spreads indices with no period, draws from no RNG."""
    return (i * 2654435769) % 2**32


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


@dataclass
class BatchStore:
    """Batches (args, kwargs, target) kept for probes, spread over the whole run.

    Batch ``i`` is kept while the top ``level`` bits of its Fibonacci hash are zero; when the budget is
    exceeded the level rises by one and half of the kept batches go. Unlike "every 2**level-th batch", this
    does not alias with the epoch length (which would keep the same few batch positions in every epoch).
    """

    max_bytes: int = SAMPLE_BYTES
    max_rows: int = SAMPLE_ROWS
    batches: list[tuple[Any, Any, Any]] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    level: int = 0
    seen: int = 0
    rows: int = 0
    size: int = 0

    def _keeps(self, i: int, level: int) -> bool:
        return level == 0 or _fibonacci(i) >> (32 - level) == 0

    def keeps_next(self) -> bool:
        """Whether the next offered batch would be kept (so the caller can skip work when not)."""
        return self._keeps(self.seen, self.level)

    def offer(self, args: Any, kwargs: Any, target: Any) -> None:
        i = self.seen
        self.seen += 1
        if not self._keeps(i, self.level):
            return
        n = batch_size_of(target) or batch_size_of(args) or 1
        take = min(n, ROWS_PER_BATCH)
        item = (
            to_cpu(slice_rows(args, take)),
            to_cpu(slice_rows(kwargs, take)),
            to_cpu(slice_rows(target, take)),
        )
        self.batches.append(item)
        self.indices.append(i)
        self.rows += take
        self.size += nbytes(item)
        while (
            len(self.batches) > 1
            and (self.rows > self.max_rows or self.size > self.max_bytes)
            and self.level < 32
        ):
            self.level += 1
            kept = [
                (j, b) for j, b in zip(self.indices, self.batches, strict=True) if self._keeps(j, self.level)
            ]
            if not kept:  # never drop everything: keep the most recent batch
                kept = [(self.indices[-1], self.batches[-1])]
            self.indices = [j for j, _ in kept]
            self.batches = [b for _, b in kept]
            self.rows = sum(batch_size_of(b[2]) or 1 for b in self.batches)
            self.size = sum(nbytes(b) for b in self.batches)


@dataclass(frozen=True)
class LoaderSource:
    """The first map-style DataLoader's dataset and how it batches. A reference only: a fix trial for a loop
    that trained on one batch over and over draws fresh batches from it (see
    :func:`deadpan.fixes.batches.drawn_batches`); :func:`deadpan.capture.autolog.run_callable` drops it once
    the report is done."""

    dataset: Any
    collate_fn: Any
    batch_size: int


@dataclass
class LossRecord:
    """The first training loss call, summarised, and how often the function was called."""

    function: str
    input: torch.Tensor
    target: torch.Tensor
    kwargs: dict[str, Any]
    calls: int = 0
    #: The loss input is the model's output tensor itself (no transform between model and loss).
    input_is_model_output: bool = False


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


class Recorder:
    """Collects evidence from one training run. Use through :func:`deadpan.watch` or ``deadpan run``."""

    def __init__(
        self,
        model: nn.Module | None = None,
        optimizers: tuple[torch.optim.Optimizer, ...] = (),
        max_steps: int | None = None,
        discover: bool = False,
        live: LiveMonitor | None = None,
        steps_from_callbacks: bool = False,
    ) -> None:
        self.model: nn.Module | None = None
        #: Live collapse checks on the loss's input (None: off), and what to do when one confirms a collapse
        #: (called after the optimizer step; it may raise StopTraining).
        self.live = live
        self.on_alert: Callable[[Recorder], None] | None = None
        #: Lightning and the Hugging Face Trainer report optimizer steps through their callbacks
        #: (:meth:`before_step`, :meth:`after_step`): Lightning runs the forward and backward inside
        #: ``optimizer.step(closure)``, where a hook on ``step`` sees the gradients of no step at all.
        self.steps_from_callbacks = steps_from_callbacks
        self._mode_dependent: bool | None = None
        self._live_pending: tuple[Any, Any, torch.Tensor, str] | None = None
        self.optimizers: list[torch.optim.Optimizer] = list(optimizers)
        self.max_steps = max_steps
        self.discover = discover
        self.step = 0
        self.backward_calls = 0
        self.zero_grad_calls = 0
        self.steps_without_zero_grad = 0
        self.backward_on_detached = 0
        self.steps_without_grad = 0
        self.steps_grad_checked = 0
        self.steps_in_eval_mode = 0
        self.loader_iters = 0
        self.loader_dataset_size: int | None = None
        self.loader_batch_size: int | None = None
        self.loader_source: LoaderSource | None = None
        self.loss_series = Series()
        self.heldout_loss = Series()
        self.grad_norm = Series()
        self.update_ratio = Series()
        self.layer_grad: dict[str, list[float]] = {}
        self.train_store = BatchStore()
        self.heldout_store = BatchStore(max_bytes=SAMPLE_BYTES // 2, max_rows=SAMPLE_ROWS // 2)
        self.fingerprints: set[str] = set()
        self.fingerprinted = 0
        #: Without a DataLoader: looks for the tensor the batches are indexed from, and the last batch seen.
        self._source_searches = 0
        self._last_batch: weakref.ref[torch.Tensor] | None = None
        self.first_nonfinite_input: int | None = None
        self.first_nonfinite_target: int | None = None
        self.loss: LossRecord | None = None
        self.first_loss_value: float | None = None
        self.internal_errors: list[str] = []
        self.initial_state: dict[str, torch.Tensor] | None = None
        self.initial_weights: list[tuple[str, str, torch.Tensor]] = []
        self.input_dtype: str | None = None
        self.samples_seen = 0
        self.started = time.perf_counter()
        self.step_seconds: list[float] = []
        #: The latest step times (``step_seconds`` keeps the first ones), for pacing the live checks.
        self._recent_steps: list[float] = []
        self._last_step_time: float | None = None
        self._zero_grad_since_step = True
        self._last_args: Any = None
        self._last_kwargs: Any = None
        self._last_output: Any = None
        self._sample_now = True  # sampled(self.step), updated once per step
        self._loss_step = -1  # the step at which a loss function was last called
        self._last_loader_batch: Any = None
        self._last_training_forward = True
        self._pre_params: list[torch.Tensor] | None = None
        self._hook: Any = None
        self._active = False
        #: Under a framework, awake for a live check only (see :meth:`wake_for_step`).
        self._check_only = False
        if model is not None:
            self._attach(model)

    # --- life cycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start (or resume after :meth:`stop`) receiving events; statistics carry on where they were."""
        if self.model is not None and self._hook is None:
            self._hook = self._register_hooks(self.model)
        if not self._active:
            instrument.activate(self)
            self._active = True

    def stop(self) -> None:
        instrument.deactivate(self)  # awake or asleep
        self._active = self._check_only = False
        if self._hook is not None:
            for h in self._hook:
                h.remove()
            self._hook = None
        try:
            self.flush()
        except Exception as exc:  # the series stay as they are; stopping must finish
            self.internal_error("flush", exc)

    def flush(self) -> None:
        """Convert the queued series values (the diagnosis reads them; a live alert's does mid-run)."""
        for s in (self.loss_series, self.heldout_loss, self.grad_norm, self.update_ratio):
            try:
                s.flush()
            except Exception as exc:
                self.internal_error("flush", exc)

    def internal_error(self, where: str, exc: BaseException) -> None:
        if len(self.internal_errors) < 50:
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self.internal_errors.append(f"{where}: {last}")

    # --- model ----------------------------------------------------------------------------------------------
    def _attach(self, model: nn.Module) -> None:
        # A DistributedDataParallel model: follow and probe the user's module inside it (see distributed.py).
        model = unwrap(model)
        self.model = model
        self._hook = self._register_hooks(model)

    def attach(self, model: nn.Module) -> None:
        """Follow ``model``'s forward calls from now on (a framework callback that found, during the first
        step, which module the batches go through)."""
        if self._hook is not None:
            for h in self._hook:
                h.remove()
        self._attach(model)

    def _register_hooks(self, model: nn.Module) -> tuple[Any, Any]:
        # The inputs are read when the forward starts: a model that computes its loss inside forward (the
        # Hugging Face style, ``model(**batch)`` with labels) calls the loss before forward returns.
        # The hooks run inside the user's forward: an exception in deadpan's part becomes an internal error.
        def pre(module: nn.Module, args: Any, kwargs: Any) -> None:
            try:
                self._on_forward_pre(module, args, kwargs)
            except Exception as exc:
                self.internal_error("forward pre-hook", exc)

        def post(module: nn.Module, args: Any, kwargs: Any, output: Any) -> None:
            try:
                self._on_forward(module, args, kwargs, output)
            except Exception as exc:
                self.internal_error("forward hook", exc)

        return (
            model.register_forward_pre_hook(pre, with_kwargs=True),
            model.register_forward_hook(post, with_kwargs=True),
        )

    def _on_forward_pre(self, module: nn.Module, args: Any, kwargs: Any) -> None:
        # Only references here (the hot path): tensors are looked into when a batch is kept.
        self._last_args = args
        self._last_kwargs = kwargs
        self._last_training_forward = module.training and torch.is_grad_enabled()

    def _on_forward(self, module: nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        self._last_output = output

    def on_optimizer_created(self, optimizer: torch.optim.Optimizer) -> None:
        if not self.discover:
            return
        self.optimizers.append(optimizer)
        if self.model is None:
            params = {id(p) for g in optimizer.param_groups for p in g["params"]}
            model = owning_module(params)
            if model is not None:
                self._attach(model)

    def on_loader_iter(self, loader: DataLoader[Any]) -> None:
        self.loader_iters += 1
        if self.loader_dataset_size is None:
            with contextlib.suppress(Exception):
                self.loader_dataset_size = len(loader.dataset)  # type: ignore[arg-type]
            self.loader_batch_size = loader.batch_size
        if self.loader_source is None and loader.batch_size and hasattr(loader.dataset, "__getitem__"):
            with contextlib.suppress(Exception):
                len(loader.dataset)  # type: ignore[arg-type]  # map-style: it can be indexed
                self.loader_source = LoaderSource(loader.dataset, loader.collate_fn, int(loader.batch_size))

    # --- loss and backward ----------------------------------------------------------------------------------
    def on_loss(self, fn: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        inp = args[0] if args else kwargs.get("input")
        target = args[1] if len(args) > 1 else kwargs.get("target")
        if not isinstance(inp, torch.Tensor) or not isinstance(target, torch.Tensor):
            return
        if self.model is None:
            return
        training = torch.is_grad_enabled() and inp.requires_grad
        if not training:
            if isinstance(result, torch.Tensor) and result.dim() == 0:
                self.heldout_loss.add_tensor(self.step, result.detach())
            if (
                self._last_args is not None
                and not self._last_training_forward
                and batch_size_of(target)
                == (batch_size_of(self._last_args) or batch_size_of(self._last_kwargs))
            ):
                self.heldout_store.offer(self._last_args, self._last_kwargs, target)
            return
        if self.loss is None:
            extra = {k: v for k, v in kwargs.items() if k not in ("input", "target")}
            for i, name in enumerate(("weight",), start=2):  # positional weight for cross_entropy & co
                if len(args) > i and name not in extra:
                    extra[name] = args[i]
            self.loss = LossRecord(
                function=fn,
                input=inp.detach().to("cpu", copy=True)[:ROWS_PER_BATCH],
                target=target.detach().to("cpu", copy=True)[:ROWS_PER_BATCH],
                kwargs=extra,
                input_is_model_output=inp is first_tensor(self._last_output),
            )
        if self.loss.function == fn:
            self.loss.calls += 1
        self._loss_step = self.step
        self._observe_training_pair(target)
        self._live_check(inp, target, fn)

    def _live_check(self, output: torch.Tensor, target: torch.Tensor, fn: str) -> None:
        if self.live is None or not self.live.due(self.step) or self.model is None:
            return
        if self._mode_dependent is None:
            self._mode_dependent = mode_dependent(self.model)
        if self._mode_dependent:
            # Dropout noise (or batch statistics) in the training forward hides a collapse: this batch is
            # run again in inference mode once the step is done.
            self._live_pending = (self._last_args, self._last_kwargs, target, fn)
            self.live.mark(self.step)
        else:
            self.live.observe(self.step, output, target, fn)
        self.live.pace(self._recent_steps)

    def _live_inference_check(self) -> None:
        pending, self._live_pending = self._live_pending, None
        if pending is None or self.live is None or self.model is None:
            return
        args, kwargs, target, fn = pending
        t0 = time.perf_counter()
        out = inference_output(self.model, args or (), kwargs or {}, self.loss)
        spent = time.perf_counter() - t0  # the forward is part of the check's cost (pacing)
        if out is None:
            self.live.spent(spent)
        else:
            self.live.observe(self.step - 1, out, target, fn, spent)

    def _observe_training_pair(self, target: torch.Tensor) -> None:
        """The last training forward's batch with its ``target``: counted, sampled, maybe kept."""
        if self._check_only or self._last_args is None or not self._last_training_forward:
            return
        self.samples_seen += target.shape[0] if target.dim() else 1
        store = self.train_store
        keep = store.keeps_next()
        if not (keep or self._sample_now):
            store.seen += 1  # the common path: nothing to copy or fingerprint this step
            return
        x = first_tensor(self._last_args) if self._last_args else first_tensor(self._last_kwargs)
        if x is None or x.dim() == 0 or target.dim() == 0 or x.shape[0] != target.shape[0]:
            store.seen += 1
            return  # the loss's target does not belong to the last forward's batch
        if self.input_dtype is None:
            self.input_dtype = str(x.dtype).replace("torch.", "")
        if self._sample_now:
            if x is not None:
                # Inputs and targets together: all-zero inputs with varying labels are different batches.
                self.fingerprints.add(fingerprint(x) + fingerprint(target))
                self.fingerprinted += 1
                if self.loader_iters == 0 and self.loader_dataset_size is None:
                    self._find_batch_source(x)
                if self.first_nonfinite_input is None and not is_finite(x):
                    self.first_nonfinite_input = self.step
            if self.first_nonfinite_target is None and not is_finite(target):
                self.first_nonfinite_target = self.step
        store.offer(self._last_args, self._last_kwargs, target)

    def _find_batch_source(self, x: torch.Tensor) -> None:
        """No DataLoader: the dataset size is that of the tensor the loop indexes its batches from (recorded
        in ``loader_dataset_size``), looked for once a sampled step's batch is a new tensor. A loop passing
        the same tensor object at every step trains full-batch on purpose: there is nothing to look for."""
        last = self._last_batch
        self._last_batch = weakref.ref(x)
        if last is None or last() is x or self._source_searches >= SOURCE_SEARCHES:
            return
        self._source_searches += 1
        rows = batch_source_rows(x, sys._getframe(1))
        if rows is not None:
            self.loader_dataset_size = rows
            self.loader_batch_size = int(x.shape[0])

    def on_loader_batch(self, batch: Any) -> None:
        self._last_loader_batch = batch  # a reference only; used when the loss is written by hand

    def _target_from_loader(self) -> torch.Tensor | None:
        """For a loss written by hand (no loss function call this step): the target is the other tensor of
        the batch the DataLoader just yielded, next to the one the model was called on."""
        batch = self._last_loader_batch
        x = first_tensor(self._last_args) if self._last_args else None
        if batch is None or x is None or x.dim() == 0:
            return None
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

    def on_backward(self, tensor: torch.Tensor) -> None:
        if self.model is None:
            return
        self.backward_calls += 1
        if self._loss_step != self.step and tensor.grad_fn is not None:
            target = self._target_from_loader()
            if target is not None:
                self._hand_written_loss(tensor, target)
        if not self._zero_grad_since_step:
            # Gradients cleared by hand (``p.grad = None`` for each parameter) count as a zero_grad.
            first = next((p for p in self.model.parameters() if p.requires_grad), None)
            if first is not None and first.grad is None:
                self._zero_grad_since_step = True
        if tensor.grad_fn is None:
            self.backward_on_detached += 1
        if tensor.numel() == 1:
            value = tensor.detach()
            self.loss_series.add_tensor(self.step, value)
            if self.first_loss_value is None:
                self.first_loss_value = float(value.reshape(()))

    def _hand_written_loss(self, loss: torch.Tensor, target: torch.Tensor) -> None:
        out = first_tensor(self._last_output)
        if out is None:
            return
        if self.loss is None:
            self.loss = LossRecord(
                function="unknown",
                input=out.detach().to("cpu", copy=True)[:ROWS_PER_BATCH],
                target=target.detach().to("cpu", copy=True)[:ROWS_PER_BATCH],
                kwargs={},
                input_is_model_output=True,
            )
        self.loss.calls += 1
        self._observe_training_pair(target)
        self._live_check(out, target, "unknown")

    def on_zero_grad(self, owner: Any) -> None:
        if owner is self.model or any(owner is o for o in self.optimizers):
            self.zero_grad_calls += 1
            self._zero_grad_since_step = True

    # --- optimizer steps ------------------------------------------------------------------------------------
    def _mine(self, optimizer: torch.optim.Optimizer) -> bool:
        if self.optimizers and optimizer is self.optimizers[0]:
            return True
        if not self.optimizers and self.model is not None:
            # watch(model) without an optimizer: adopt the first one that steps this model's parameters.
            mine = {id(p) for p in self.model.parameters()}
            if any(id(p) in mine for g in optimizer.param_groups for p in g["params"]):
                self.optimizers.append(optimizer)
        return any(optimizer is o for o in self.optimizers)

    def _params(self) -> list[tuple[str, nn.Parameter]]:
        assert self.model is not None
        return [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]

    def on_step_pre(self, optimizer: torch.optim.Optimizer) -> None:
        if not self.steps_from_callbacks:
            self._before_step(optimizer)

    def on_step_post(self, optimizer: torch.optim.Optimizer) -> None:
        if not self.steps_from_callbacks:
            self._after_step(optimizer)

    def before_step(self) -> None:
        """A framework callback: the optimizer is about to step (gradients are final)."""
        if self.optimizers and self._active:
            self._before_step(self.optimizers[0])

    def after_step(self, loss: Any = None, rows: int | None = None) -> None:
        """A framework callback: the optimizer stepped. On a step the recorder slept through (see
        :meth:`wake_for_step`) the framework's own ``loss`` and batch ``rows`` stand in for what the torch
        events would have told."""
        if not self.optimizers or self.model is None:
            return
        if not self._active:
            if isinstance(loss, torch.Tensor) and loss.numel() == 1:
                self.loss_series.add_tensor(self.step, loss.detach() if loss.requires_grad else loss)
            if rows:
                self.samples_seen += rows
            if not self.model.training:
                self.steps_in_eval_mode += 1
        elif self._check_only and rows:
            self.samples_seen += rows  # a check step counts no training pair (see _observe_training_pair)
        self._after_step(self.optimizers[0])

    def wake_for_step(self) -> None:
        """A framework callback, before a step: receive torch events during this step only when it is one
        the recorder samples (or a live check is due); sleep through the others.

        A framework owns the training loop, so the loop bugs the per-step events reveal in a hand-written
        loop (no ``zero_grad``, ``backward`` on a detached loss) are not the user's to make, and a step's
        loss and batch size come from the framework's hooks. Between sampled steps no event reaches the
        recorder and the model carries no hook of deadpan's (a hooked module leaves PyTorch's fast call path,
        and the last output it keeps holds the step's graph alive): the recording cost falls on the sampled
        steps (the first 10, then about 20 per decade), and a live check's step (every 5 to 10 steps) pays
        for the check alone."""
        if self.step < DENSE_STEPS or self._sample_now:
            self.wake()
        elif self.live is not None and self.live.due(self.step):
            # Woken for a live check alone: the check reads the loss function's input, so the model is
            # hooked only where the check re-runs the batch in inference mode (dropout, batch norm), and no
            # batch is kept (a check step costs the check, not a sampled step's recording).
            if not self._active:
                instrument.activate(self)
                self._active = True
            self._check_only = True
            if self._mode_dependent is False:
                self._unhook()
            elif self._hook is None and self.model is not None:
                self._hook = self._register_hooks(self.model)
        elif self._active:
            instrument.sleep(self)
            self._active = self._check_only = False
            self._unhook()

    def _unhook(self) -> None:
        if self._hook is not None:
            for h in self._hook:
                h.remove()
            self._hook = None
        self._last_args = self._last_kwargs = self._last_output = None

    @property
    def listening(self) -> bool:
        """Whether torch events reach this recorder now (False between sampled steps, see
        :meth:`wake_for_step`)."""
        return self._active

    def wake(self) -> None:
        """Receive torch events again (a framework's evaluation begins: its losses are the held-out ones)."""
        self._check_only = False
        if not self._active:  # asleep (patches kept) or stopped
            instrument.activate(self)
            self._active = True
        if self._hook is None and self.model is not None:
            self._hook = self._register_hooks(self.model)

    def _before_step(self, optimizer: torch.optim.Optimizer) -> None:
        if self.model is None or not self._mine(optimizer):
            return
        if optimizer is not self.optimizers[0]:
            return  # statistics follow the first optimizer; others still count as seen
        if self.step == 0:
            self._snapshot_initial()
        if self.step > 0 and not self._zero_grad_since_step:
            self.steps_without_zero_grad += 1
        self._zero_grad_since_step = False
        if not self.model.training:
            self.steps_in_eval_mode += 1
        if self._sample_now:
            params = self._params()
            grads = [p.grad for _, p in params if p.grad is not None]
            self.steps_grad_checked += 1
            if not grads:
                self.steps_without_grad += 1
            else:
                norms = torch._foreach_norm(grads)
                total = torch.linalg.vector_norm(torch.stack([n.float() for n in norms]))
                self.grad_norm.add_tensor(self.step, total)
                named = [n for n, p in params if p.grad is not None]
                if len(self.layer_grad) < 512:
                    for name, nv in zip(named, torch.stack(norms).float().tolist(), strict=True):
                        self.layer_grad.setdefault(name, []).append(float(nv))
            self._pre_params = [p.detach().clone() for _, p in params]

    def _after_step(self, optimizer: torch.optim.Optimizer) -> None:
        if self.model is None or not self._mine(optimizer) or optimizer is not self.optimizers[0]:
            return
        if self._pre_params is not None:
            params = [p for _, p in self._params()]
            if len(params) == len(self._pre_params):
                ratios = []
                for before, p in zip(self._pre_params, params, strict=True):
                    w = float(torch.linalg.vector_norm(before.float()))
                    if w > 0:
                        ratios.append(float(torch.linalg.vector_norm((p.detach() - before).float())) / w)
                if ratios:
                    ratios.sort()
                    self.update_ratio.add(self.step, ratios[len(ratios) // 2])
            self._pre_params = None
        now = time.perf_counter()
        if self._last_step_time is not None:
            took = now - self._last_step_time
            self._recent_steps.append(took)
            del self._recent_steps[:-15]
            if len(self.step_seconds) < STEP_TIMES_KEPT:
                self.step_seconds.append(took)
            if self.live is not None:
                self.live.step_done(self.step, took)
        self._last_step_time = now
        self.step += 1
        self._sample_now = sampled(self.step)
        if self._live_pending is not None:
            self._live_inference_check()
        if self.live is not None and self.live.pending is not None and self.on_alert is not None:
            self.on_alert(self)
        if self.max_steps is not None and self.step >= self.max_steps:
            raise instrument.StopTraining()

    def _snapshot_initial(self) -> None:
        assert self.model is not None
        n = sum(p.numel() for p in self.model.parameters())
        if n <= SNAPSHOT_MAX_PARAMS:
            self.initial_state = {
                k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()
            }
        for name, mod in self.model.named_modules():
            w = getattr(mod, "weight", None)
            if isinstance(w, torch.Tensor) and w.dim() >= 2:
                self.initial_weights.append((name, type(mod).__name__, w.detach().to("cpu", copy=True)))

    # --- helpers for building evidence ----------------------------------------------------------------------
    def model_copy(self, initial: bool = False) -> nn.Module | None:
        """A deep copy of the model (at its initial weights when ``initial`` and a snapshot exists)."""
        if self.model is None:
            return None
        hooked = self._hook is not None
        if hooked:  # mid-run (a live alert): the hooks hold this recorder, which must not be copied
            for h in self._hook:
                h.remove()
        try:
            m = copy.deepcopy(self.model)
        finally:
            if hooked:
                self._hook = self._register_hooks(self.model)
        if initial and self.initial_state is not None:
            m.load_state_dict(self.initial_state)
        return m

    def evidence_bytes(self) -> dict[str, int]:
        """The memory this recorder holds as evidence, by part, in bytes (tensors by their elements, Python
        objects by ``sys.getsizeof``). Each part is bounded however long the run: the kept batches by
        :data:`SAMPLE_BYTES` (training) and half of it (held-out); the initial weights by the model's size
        (not kept beyond :data:`SNAPSHOT_MAX_PARAMS`); the series by :data:`SERIES_POINTS` points each and
        the step times by :data:`STEP_TIMES_KEPT`; the per-layer gradient norms and batch fingerprints grow
        with the sampled steps, about 20 per decade of steps (``benchmarks/memory.py`` measures them)."""

        def floats(values: list[Any]) -> int:
            return sys.getsizeof(values) + sum(sys.getsizeof(v) for v in values)

        def series(s: Series) -> int:
            pending = sum(sys.getsizeof(v) + v.element_size() * v.nelement() for _, v in s._pending)
            return floats(s.steps) + floats(s.values) + sys.getsizeof(s._pending) + pending

        snapshot = nbytes(self.initial_state or {}) + nbytes([w for _, _, w in self.initial_weights])
        loss = nbytes([self.loss.input, self.loss.target]) if self.loss is not None else 0
        return {
            "batches": self.train_store.size + self.heldout_store.size,
            "initial_weights": snapshot,
            "series": sum(
                series(s) for s in (self.loss_series, self.heldout_loss, self.grad_norm, self.update_ratio)
            )
            + floats(self.step_seconds)
            + floats(self._recent_steps),
            "layer_grad": sys.getsizeof(self.layer_grad)
            + sum(sys.getsizeof(k) + floats(v) for k, v in self.layer_grad.items()),
            "fingerprints": sys.getsizeof(self.fingerprints)
            + sum(sys.getsizeof(f) for f in self.fingerprints),
            "loss_record": loss,
        }

    def unoptimized(self) -> tuple[int, tuple[str, ...]]:
        if self.model is None or not self.optimizers:
            return 0, ()
        stepped = {id(p) for o in self.optimizers for g in o.param_groups for p in g["params"]}
        names = tuple(n for n, p in self.model.named_parameters() if p.requires_grad and id(p) not in stepped)
        count = sum(p.numel() for n, p in self.model.named_parameters() if n in names)
        return count, names
