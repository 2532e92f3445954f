"""The loss half of the recorder: what it does on each loss call, ``backward`` and ``zero_grad`` of the loop.

A training loss call pairs the last training forward's batch with its target: the pair is counted, sampled
(fingerprinted, checked for NaN/inf) and maybe kept for the probes, and the loss's input goes to the live
collapse check. A loss call outside training is a held-out one. A ``backward`` with no loss function call
before it is a loss written by hand: its target is read off the batch the DataLoader just yielded.

:class:`LossEvents` is a part of :class:`~deadpan.capture.recorder.Recorder`, which calls
:meth:`LossEvents._init_loss_events` from its constructor.
"""

from __future__ import annotations

import sys
import time
import weakref
from typing import Any

import torch
from torch import nn

from deadpan.capture.batch_store import BatchStore
from deadpan.capture.discovery import (
    SOURCE_SEARCHES,
    batch_source_rows,
    nearest_parameter,
    reaches,
    target_in_batch,
)
from deadpan.capture.gradient_flow import model_gradient_cuts
from deadpan.capture.inference import inference_output, mode_dependent
from deadpan.capture.live import LiveMonitor
from deadpan.capture.loss_record import LossRecord
from deadpan.capture.losses import EMBEDDING_LOSSES
from deadpan.capture.samples import ROWS_PER_BATCH, SAMPLE_BYTES, SAMPLE_ROWS, Series
from deadpan.probes.tensors import batch_size_of, fingerprint, first_tensor, is_finite


class LossEvents:
    """The recorder's loss, backward and zero_grad events, and the state they fill."""

    # Kept by the rest of the recorder (its constructor, forward hooks and step events).
    model: nn.Module | None
    optimizers: list[torch.optim.Optimizer]
    live: LiveMonitor | None
    step: int
    _sample_now: bool
    _check_only: bool
    _last_args: Any
    _last_kwargs: Any
    _last_output: Any
    _last_training_forward: bool
    _zero_grad_since_step: bool
    _recent_steps: list[float]
    loader_iters: int
    loader_dataset_size: int | None
    loader_batch_size: int | None

    def _init_loss_events(self) -> None:
        """The state these events fill, empty: counts, the loss series and record, the kept batches."""
        self.backward_calls = 0
        self.zero_grad_calls = 0
        self.backward_on_detached = 0
        #: Parameters the first loss with a graph reaches only through zero-derivative operations.
        self.gradient_cuts: dict[str, tuple[str, ...]] | None = None
        self.loss_series = Series()
        self.heldout_loss = Series()
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
        self.input_dtype: str | None = None
        self.samples_seen = 0
        self._mode_dependent: bool | None = None
        self._live_pending: tuple[Any, Any, torch.Tensor, str, float | None] | None = None
        self._loss_step = -1  # the step at which a loss function was last called
        self._last_loader_batch: Any = None
        #: Training losses of other trained models (see :meth:`_output_of_another_model`), not paired.
        self.other_model_losses = 0
        self._others: set[int] = set()
        self._model_parameter_ids: set[int] = set()
        self._others_counted = 0
        self._loss_recorded_at = -1
        #: A model without targets of its own (see :meth:`_keep_unpaired_inputs`): its last kept inputs; for a
        #: generator, the label its discriminator is asked to give its samples. A discriminator: its inputs
        #: include another trained model's outputs (see :meth:`_judging_another_model`).
        self.unpaired_inputs: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self.generator_label: float | None = None
        #: A pair loss's labels (``cosine_embedding_loss``'s +1 similar / -1 dissimilar), sampled: the targets
        #: of a model whose outputs are compared with each other.
        self.pair_labels: list[torch.Tensor] = []
        self.judges_other_model = False
        #: No optimizer: the loop updates the weights itself (``p -= lr * p.grad``); a step is counted at the
        #: first training forward after a ``backward`` (see ``Recorder._discover_from_backward``).
        self.manual_updates = False

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
            if self._last_args is not None and not self._last_training_forward:
                rows = batch_size_of(self._last_args) or batch_size_of(self._last_kwargs)
                target = self._unfolded(target, rows)
                if batch_size_of(target) == rows:
                    self.heldout_store.offer(self._last_args, self._last_kwargs, target)
            return
        if self._output_of_another_model(inp):
            self.other_model_losses += 1
            self._keep_unpaired_inputs(target)
            return  # the loss input is another trained model's output (a discriminator's, a second model's)
        if self.loss is None or self._labels_beat_soft_targets(fn, target):
            self._record_loss(fn, args, kwargs, inp, target)
        self._loss_step = self.step
        if fn in EMBEDDING_LOSSES and self.loss is not None and self.loss.function == fn:
            self.loss.calls += 1
            self._keep_unpaired_inputs(None)
            self._keep_pair_labels(args[2] if len(args) > 2 else kwargs.get("target"))
            return  # embeddings compared with each other: no target of their own (capture.targetless)
        if self.loss is None or self.loss.function != fn:
            return  # a second loss term (distillation's cross-entropy next to its KL): one pair per step
        self.loss.calls += 1
        self._observe_training_pair(target)
        self._live_check(inp, target, fn, result)

    def _keep_pair_labels(self, labels: Any) -> None:
        """A pair loss's labels on the sampled steps, up to ``SAMPLE_ROWS`` of them."""
        kept = sum(len(t) for t in self.pair_labels)
        if self._sample_now and isinstance(labels, torch.Tensor) and labels.dim() == 1 and kept < SAMPLE_ROWS:
            self.pair_labels.append(labels.detach()[:ROWS_PER_BATCH].to("cpu", copy=True))

    def _keep_unpaired_inputs(self, target: torch.Tensor | None) -> None:
        """This model's outputs have no targets of their own: it trained through another model's output (a
        GAN's generator through its discriminator), or its loss compares its outputs with each other (an
        embedding model's triplet or pair loss). Keep the inputs of its last training forward (the noise
        ``z``, a batch of examples), detached and bounded, once per sampled step, to judge its outputs'
        diversity after the run; and the target the other model is asked to give them (the label of the
        real data)."""
        if not (self._sample_now and self._last_training_forward and self._last_args is not None):
            return
        self.unpaired_inputs = (
            tuple(
                a.detach()[:ROWS_PER_BATCH].clone() if isinstance(a, torch.Tensor) else a
                for a in self._last_args
            ),
            dict(self._last_kwargs or {}),
        )
        if target is not None and target.numel():
            self.generator_label = float(target.detach().reshape(-1)[0])

    def _record_loss(
        self, fn: str, args: tuple[Any, ...], kwargs: dict[str, Any], inp: torch.Tensor, target: torch.Tensor
    ) -> None:
        """The loss the batches are paired by: the first training loss call, summarised."""
        extra = {k: v for k, v in kwargs.items() if k not in ("input", "target")}
        for i, name in enumerate(("weight",), start=2):  # positional weight for cross_entropy & co
            if len(args) > i and name not in extra:
                extra[name] = args[i]
        if self.loss is not None:  # replaced within its first step: the batch it kept goes too
            self.train_store = BatchStore()
        self.loss = LossRecord(
            function=fn,
            input=inp.detach().to("cpu", copy=True)[:ROWS_PER_BATCH],
            target=target.detach().to("cpu", copy=True)[:ROWS_PER_BATCH],
            kwargs=extra,
            input_is_model_output=inp is first_tensor(self._last_output),
            fold=self._rows_per_sample(inp, target),
        )
        self._loss_recorded_at = self.step

    def _labels_beat_soft_targets(self, fn: str, target: torch.Tensor) -> bool:
        """In the first step, a loss on class ids replaces one recorded on soft targets of the output's own
        shape (a teacher's probabilities, smoothed labels): the labels are what the model is judged on."""
        rec = self.loss
        return (
            rec is not None
            and self.step == self._loss_recorded_at
            and rec.function != fn
            and not target.is_floating_point()
            and rec.target.is_floating_point()
            and rec.target.shape == rec.input.shape
        )

    def _other_models_parameters(self) -> set[int]:
        """The parameters that the optimizers of other models hold (optimizers holding none of this model's
        parameters: a GAN's other network, a second model the script trains); empty with one optimizer."""
        if len(self.optimizers) < 2 or self.model is None:
            return set()
        if self._others_counted != len(self.optimizers):
            self._model_parameter_ids = {id(p) for p in self.model.parameters()}
            held = [{id(p) for g in o.param_groups for p in g["params"]} for o in self.optimizers]
            self._others = set().union(*(ids for ids in held if ids.isdisjoint(self._model_parameter_ids)))
            self._others_counted = len(self.optimizers)
        return self._others

    def _output_of_another_model(self, inp: torch.Tensor) -> bool:
        """Whether the loss input came out of another trained model: the trained parameter nearest to it in
        its graph is another model's (a generator's output went through the discriminator; a second model's
        loss), so it is not this model's (output, target) pair. A chain of models (an encoder, then a
        decoder) pairs the loss with the last one."""
        others = self._other_models_parameters()
        if not others or self.model is None:
            return False
        return nearest_parameter(inp, others | self._model_parameter_ids) in others

    def _rows_per_sample(self, inp: torch.Tensor, target: torch.Tensor) -> int:
        """Loss rows per row of the last training forward's batch: T for a sequence model's ``[B, T, V]``
        logits and ``[B, T]`` targets flattened into the loss (``logits.view(-1, V)``), else 1."""
        x = first_tensor(self._last_args) if self._last_args else first_tensor(self._last_kwargs)
        if x is None or x.dim() == 0 or inp.dim() == 0 or target.dim() == 0:
            return 1
        b, n = int(x.shape[0]), int(inp.shape[0])
        if b < 1 or n <= b or n % b or int(target.shape[0]) != n:
            return 1
        out = first_tensor(self._last_output)  # None when the forward computes the loss (it has not returned)
        if out is not None and (out.dim() < 2 or out.shape[0] != b):
            return 1
        return n // b

    def _unfolded(self, target: torch.Tensor, rows: int | None) -> torch.Tensor:
        """A flattened per-position target (:attr:`LossRecord.fold` rows per sample) as ``[rows, fold, ...]``,
        the shape the model's batch has; any other target as it is."""
        fold = self.loss.fold if self.loss is not None else 1
        if fold > 1 and rows and target.dim() and target.shape[0] == rows * fold:
            return target.reshape(rows, fold, *target.shape[1:])
        return target

    def _live_check(self, output: torch.Tensor, target: torch.Tensor, fn: str, loss: Any) -> None:
        if self.live is None or not self.live.due(self.step) or self.model is None:
            return
        value = float(loss.detach()) if isinstance(loss, torch.Tensor) and loss.numel() == 1 else None
        if self._mode_dependent is None:
            self._mode_dependent = mode_dependent(self.model)
        if self._mode_dependent:
            # Dropout noise (or batch statistics) in the training forward hides a collapse: this batch is
            # run again in inference mode once the step is done.
            self._live_pending = (self._last_args, self._last_kwargs, target, fn, value)
            self.live.mark(self.step)
        else:
            self.live.observe(self.step, output, target, fn, loss_value=value)
        self.live.pace(self._recent_steps)

    def _live_inference_check(self) -> None:
        pending, self._live_pending = self._live_pending, None
        if pending is None or self.live is None or self.model is None:
            return
        args, kwargs, target, fn, value = pending
        t0 = time.perf_counter()
        out = inference_output(self.model, args or (), kwargs or {}, self.loss)
        spent = time.perf_counter() - t0  # the forward is part of the check's cost (pacing)
        if out is None:
            self.live.spent(spent)
        else:
            # A per-position loss's flat target, as [rows, positions]: the adapted output's layout.
            target = self._unfolded(target, batch_size_of(args) or batch_size_of(kwargs))
            self.live.observe(self.step - 1, out, target, fn, spent, value)

    def _observe_training_pair(self, target: torch.Tensor) -> None:
        """The last training forward's batch with its ``target``: counted, sampled, maybe kept."""
        if self._check_only or self._last_args is None or not self._last_training_forward:
            return
        fold = self.loss.fold if self.loss is not None else 1
        rows = int(target.shape[0]) if target.dim() else 1
        self.samples_seen += rows // fold if rows % fold == 0 else rows
        store = self.train_store
        keep = store.keeps_next()
        if not (keep or self._sample_now):
            store.seen += 1  # the common path: nothing to copy or fingerprint this step
            return
        x = first_tensor(self._last_args) if self._last_args else first_tensor(self._last_kwargs)
        if x is not None and x.dim():
            target = self._unfolded(target, int(x.shape[0]))
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
        return target_in_batch(batch, x)

    def _discover_from_backward(self, loss: torch.Tensor) -> None:
        """No model yet at a ``backward``: the recorder may find it from the loss (no optimizer)."""

    def on_backward(self, tensor: torch.Tensor) -> None:
        if self.model is None:
            self._discover_from_backward(tensor)
        if self.model is None or self._only_trains_other_models(tensor):
            return
        self.backward_calls += 1
        if self._loss_step != self.step and tensor.grad_fn is not None:
            target = self._target_from_loader()
            if target is not None:
                self._hand_written_loss(tensor, target)
        if not self._zero_grad_since_step:
            # Gradients cleared by hand (``p.grad = None`` for each parameter) count as a zero_grad; in a
            # loop that updates the weights by hand, so do gradients zeroed in place (``p.grad.zero_()``).
            first = next((p for p in self.model.parameters() if p.requires_grad), None)
            if first is not None and (
                first.grad is None or (self.manual_updates and not bool(first.grad.any()))
            ):
                self._zero_grad_since_step = True
                self.zero_grad_calls += 1
        if tensor.grad_fn is None:
            self.backward_on_detached += 1
        elif self.gradient_cuts is None:
            self.gradient_cuts = model_gradient_cuts(self.model, tensor)
        if tensor.numel() == 1:
            value = tensor.detach()
            self.loss_series.add_tensor(self.step, value)
            if self.first_loss_value is None:
                self.first_loss_value = float(value.reshape(()))

    def _judging_another_model(self, args: Any) -> None:
        """On a sampled training forward: does the model's input come out of another trained model (a
        discriminator given the generator's samples)? Then its targets are a game's, not the data's."""
        if self.judges_other_model or not self._sample_now or len(self.optimizers) < 2:
            return
        x = first_tensor(args)
        if x is not None and x.grad_fn is not None and self._output_of_another_model(x):
            self.judges_other_model = True

    def _only_trains_other_models(self, loss: torch.Tensor) -> bool:
        """A backward that reaches other trained models' parameters and none of this model's: another model's
        step (a discriminator's, a second model's), not one of this model's."""
        others = self._other_models_parameters()
        if not others or self.model is None:
            return False
        return not reaches(loss, self._model_parameter_ids) and reaches(loss, others)

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
        self._live_check(out, target, "unknown", loss)

    def on_zero_grad(self, owner: Any) -> None:
        if owner is self.model or any(owner is o for o in self.optimizers):
            self.zero_grad_calls += 1
            self._zero_grad_since_step = True
