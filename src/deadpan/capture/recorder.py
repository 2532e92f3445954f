"""The recorder: turns torch events from the user's own loop into bounded, detached statistics.

Rules it keeps (the user's training must end bitwise the same with or without it):
- no random draws: which steps and batches are sampled follows a fixed schedule;
- no extra forward or backward passes; it reads tensors the loop already made, detached;
- bounded memory: batches kept under a byte budget with a doubling stride, series merged pairwise;
- it never raises into the loop (``instrument._safely``), except StopTraining on request.

:class:`Recorder` is here with its life cycle, its forward hooks on the model, the optimizer-step events and a
framework's sleep and wake; what it does on loss calls and ``backward`` is :mod:`deadpan.capture.loss_events`,
its per-step statistics :mod:`deadpan.capture.step_stats`, the bounded samples it keeps
:mod:`deadpan.capture.samples`, and how it finds the model and the data :mod:`deadpan.capture.discovery`.
"""

from __future__ import annotations

import contextlib
import copy
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from deadpan.capture import instrument
from deadpan.capture.discovery import LoaderSource, owning_module, parameters_reached
from deadpan.capture.distributed import unwrap
from deadpan.capture.live import LiveMonitor
from deadpan.capture.loss_events import LossEvents
from deadpan.capture.samples import DENSE_STEPS, Series, sampled
from deadpan.capture.step_stats import StepStatistics
from deadpan.probes.tensors import nbytes

#: A ``torch.compile``d module holds the user's module under this name (its state-dict keys carry it).
_COMPILED_PREFIX = "_orig_mod."


def _eager(model: nn.Module) -> nn.Module:
    """The module a ``torch.compile``d one wraps (the model itself otherwise): the probes run copies of it
    eagerly, since a compiled copy recompiles (seconds, cold) and breaks its graph at every probe hook."""
    inner = getattr(model, "_orig_mod", None)
    return inner if isinstance(inner, nn.Module) else model


class Recorder(LossEvents, StepStatistics):
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
        #: Called when (discovering) an optimizer over none of the model's parameters is created: the script
        #: trains another model too (see :mod:`deadpan.script.models`).
        self.on_other_model: Callable[[torch.optim.Optimizer], None] | None = None
        #: Lightning and the Hugging Face Trainer report optimizer steps through their callbacks
        #: (:meth:`before_step`, :meth:`after_step`): Lightning runs the forward and backward inside
        #: ``optimizer.step(closure)``, where a hook on ``step`` sees the gradients of no step at all.
        self.steps_from_callbacks = steps_from_callbacks
        self.optimizers: list[torch.optim.Optimizer] = list(optimizers)
        self.max_steps = max_steps
        self.discover = discover
        self.step = 0
        self.loader_iters = 0
        self.loader_dataset_size: int | None = None
        self.loader_batch_size: int | None = None
        self.loader_source: LoaderSource | None = None
        self.internal_errors: list[str] = []
        self.started = time.perf_counter()
        self._last_args: Any = None
        self._last_kwargs: Any = None
        self._last_output: Any = None
        self._sample_now = True  # sampled(self.step), updated once per step
        self._last_training_forward = True
        self._hook: Any = None
        self._active = False
        #: Under a framework, awake for a live check only (see :meth:`wake_for_step`).
        self._check_only = False
        self._manual_backwards = 0
        self._init_loss_events()
        self._init_step_statistics()
        #: ``load_state_dict`` calls seen, and the parameters they filled (by identity: loading copies into
        #: the existing tensors).
        self.state_loads = 0
        self.loaded_params: set[int] = set()
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

    def on_state_loaded(self, module: nn.Module, keys: list[str]) -> None:
        """Weights loaded into ``module`` (``load_state_dict``): its parameters named in ``keys`` hold a
        checkpoint's values, not a random initialisation's."""
        named = set(keys)
        self.state_loads += 1
        self.loaded_params.update(id(p) for n, p in module.named_parameters() if n in named)

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
        if self._last_training_forward:
            self._judging_another_model(args)
            if self.manual_updates and self.backward_calls > self._manual_backwards:
                self._manual_step()

    def _on_forward(self, module: nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        self._last_output = output

    def on_optimizer_created(self, optimizer: torch.optim.Optimizer) -> None:
        if not self.discover:
            return
        self.optimizers.append(optimizer)
        params = {id(p) for g in optimizer.param_groups for p in g["params"]}
        if self.model is None:
            model = owning_module(params)
            if model is not None:
                self._attach(model)
        elif self.on_other_model is not None and all(id(p) not in params for p in self.model.parameters()):
            self.on_other_model(optimizer)

    def _discover_from_backward(self, loss: torch.Tensor) -> None:
        """A loop with no optimizer (the weights updated by hand, ``p -= lr * p.grad``): the model is the
        module owning the parameters the first ``backward`` reaches, and each later training forward after a
        ``backward`` counts as the step (:meth:`_manual_step`)."""
        if not self.discover or self.optimizers or loss.grad_fn is None:
            return
        model = owning_module(parameters_reached(loss))
        if model is None:
            return
        self._attach(model)
        self.manual_updates = True
        self._snapshot_initial()

    def _manual_step(self) -> None:
        """A loop updating the weights by hand took a step (a ``backward`` since the last training forward):
        what ``optimizer.step`` would tell, from what the loop shows."""
        if self.step > 0 and not self._zero_grad_since_step:
            self.steps_without_zero_grad += 1
        self._zero_grad_since_step = False
        self._manual_backwards = self.backward_calls
        self.step += 1
        self._sample_now = sampled(self.step)
        if self.max_steps is not None and self.step >= self.max_steps:
            raise instrument.StopTraining()

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

    # --- optimizer steps ------------------------------------------------------------------------------------
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

    def _after_step(self, optimizer: torch.optim.Optimizer) -> None:
        if self.model is None or not self._mine(optimizer) or optimizer is not self.optimizers[0]:
            return
        self._record_update_ratio()
        self._record_step_time()
        self.step += 1
        self._sample_now = sampled(self.step)
        if self._live_pending is not None:
            self._live_inference_check()
        if self.live is not None and self.live.pending is not None and self.on_alert is not None:
            self.on_alert(self)
        if self.max_steps is not None and self.step >= self.max_steps:
            raise instrument.StopTraining()

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
            m = copy.deepcopy(_eager(self.model))
        finally:
            if hooked:
                self._hook = self._register_hooks(self.model)
        if initial and self.initial_state is not None:
            m.load_state_dict({k.removeprefix(_COMPILED_PREFIX): v for k, v in self.initial_state.items()})
        return m

    def evidence_bytes(self) -> dict[str, int]:
        """The memory this recorder holds as evidence, by part, in bytes (tensors by their elements, Python
        objects by ``sys.getsizeof``). Each part is bounded however long the run: the kept batches by
        :data:`~deadpan.capture.samples.SAMPLE_BYTES` (training) and half of it (held-out); the initial
        weights by the model's size (not kept beyond :data:`~deadpan.capture.samples.SNAPSHOT_MAX_PARAMS`);
        the series by :data:`~deadpan.capture.samples.SERIES_POINTS` points each and the step times by
        :data:`~deadpan.capture.step_stats.STEP_TIMES_KEPT`; the per-layer gradient norms and batch
        fingerprints grow with the sampled steps, about 20 per decade of steps (``benchmarks/memory.py``
        measures them)."""

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
