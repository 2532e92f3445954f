"""The step half of the recorder: per-optimizer-step statistics of the model the loop trains.

Before each step (gradients final): whether ``zero_grad`` was called since the last one, whether the model
is in training mode, and on the sampled steps the gradient norms (total and per layer) and a copy of the
weights. After it: the update-to-weight ratio on the sampled steps, and the step's duration. At the first
step, a snapshot of the initial weights for the probes.

:class:`StepStatistics` is a part of :class:`~deadpan.capture.recorder.Recorder`, which calls
:meth:`StepStatistics._init_step_statistics` from its constructor.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from deadpan.capture.live import LiveMonitor
from deadpan.capture.samples import SNAPSHOT_MAX_PARAMS, Series

#: Step durations kept (the first ones: the report's median step time).
STEP_TIMES_KEPT = 4096


class StepStatistics:
    """The recorder's statistics of each optimizer step, and the state they fill."""

    # Kept by the rest of the recorder (its constructor and step events).
    model: nn.Module | None
    optimizers: list[torch.optim.Optimizer]
    live: LiveMonitor | None
    step: int
    _sample_now: bool

    def _init_step_statistics(self) -> None:
        """The state these statistics fill, empty."""
        self.steps_without_zero_grad = 0
        self.steps_without_grad = 0
        self.steps_grad_checked = 0
        self.steps_in_eval_mode = 0
        self.grad_norm = Series()
        self.update_ratio = Series()
        #: The first optimizer's learning rate at the sampled steps (a schedule moves it; a decay to zero
        #: leaves the last value far from the one the training ran at).
        self.lr_seen = Series()
        self.layer_grad: dict[str, list[float]] = {}
        #: Sampled steps at which each parameter had no gradient (the backward did not reach it).
        self.ungraded: dict[str, int] = {}
        self.initial_state: dict[str, torch.Tensor] | None = None
        self.initial_weights: list[tuple[str, str, torch.Tensor]] = []
        self.step_seconds: list[float] = []
        #: The latest step times (``step_seconds`` keeps the first ones), for pacing the live checks.
        self._recent_steps: list[float] = []
        self._last_step_time: float | None = None
        self._zero_grad_since_step = True
        self._pre_params: list[torch.Tensor] | None = None

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
            self._record_gradients()
            self._record_lr(optimizer)

    def _record_gradients(self) -> None:
        """A sampled step, before the optimizer moves the weights: the gradient norms (total and per layer),
        and a copy of the weights for the update ratio."""
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
            values = torch.stack(norms).float().tolist()
            if len(self.layer_grad) < 512:
                for name, nv in zip(named, values, strict=True):
                    self.layer_grad.setdefault(name, []).append(float(nv))
            self._count_ungraded(params)
        self._pre_params = [p.detach().clone() for _, p in params]

    def _record_lr(self, optimizer: torch.optim.Optimizer) -> None:
        lr = optimizer.param_groups[0].get("lr") if optimizer.param_groups else None
        if isinstance(lr, int | float):  # a tensor learning rate is read at the end only (no host sync)
            self.lr_seen.add(self.step, float(lr))

    def _count_ungraded(self, params: list[tuple[str, nn.Parameter]]) -> None:
        """Count this step for every parameter the backward did not reach: no gradient at all. (A gradient
        of zeros did reach it: dead units or saturation stopped the signal, which other checks read.)"""
        for name, p in params:
            if p.grad is None:
                self.ungraded[name] = self.ungraded.get(name, 0) + 1

    def _record_update_ratio(self) -> None:
        """After a sampled step: the median over parameters of how far the step moved each, relative to its
        norm before the step."""
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

    def _record_step_time(self) -> None:
        """The time since the previous step ended: kept (the first ones), and told to the live checks."""
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

    def unoptimized(self) -> tuple[int, tuple[str, ...]]:
        if self.model is None or not self.optimizers:
            return 0, ()
        stepped = {id(p) for o in self.optimizers for g in o.param_groups for p in g["params"]}
        names = tuple(n for n, p in self.model.named_parameters() if p.requires_grad and id(p) not in stepped)
        count = sum(p.numel() for n, p in self.model.named_parameters() if n in names)
        return count, names
