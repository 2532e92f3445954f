"""deadpan inside a Hugging Face ``transformers.Trainer``:
``Trainer(..., callbacks=[deadpan.hf.DeadpanCallback()])``.

Install with ``pip install 'deadpan[hf]'``. The callback records through the Trainer's own events:

- ``on_train_begin``: the model and optimizer (the accelerate wrapper is looked through);
- ``on_pre_optimizer_step``: the step's final gradients (the Trainer has clipped them already by then; the
  norm before clipping is what it logs as ``grad_norm``, kept from ``on_log``);
- ``on_step_begin``: whether this step is one the recorder samples (between them it sleeps: the Trainer
  owns the loop);
- ``on_step_end``: the optimizer stepped (update ratio, step count, live collapse check);
- ``on_log`` and ``on_evaluate``: the logged learning rate and gradient norm, and the evaluation metrics.

The Trainer calls ``model(**batch)`` and the model computes its loss inside ``forward`` through
``torch.nn.functional``, so the loss's input (the logits) and target (the labels) are seen as in any PyTorch
loop. When the output collapses a :class:`~deadpan.capture.live.CollapseWarning` is warned, and
``stop_on="collapsed"`` ends training (``control.should_training_stop``). The report is made in
``on_train_end``: ``callback.report``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

try:
    from transformers import TrainerCallback
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("deadpan.hf needs transformers: pip install 'deadpan[hf]'") from exc

from deadpan.capture.live import Alert, StopOn
from deadpan.capture.session import TorchSession
from deadpan.findings import Report

#: Logged values kept per run (the newest are dropped past it).
MAX_LOGS = 2000


def _unwrapped(optimizer: Any) -> Any:
    """The torch optimizer inside accelerate's ``AcceleratedOptimizer`` (its name is the user's choice)."""
    inner = getattr(optimizer, "optimizer", None)
    return inner if isinstance(inner, torch.optim.Optimizer) else optimizer


class DeadpanCallback(TrainerCallback):
    """Record evidence while a ``transformers.Trainer`` trains; alert live on a collapse; diagnose at the end.

    >>> cb = deadpan.hf.DeadpanCallback(stop_on="collapsed")
    >>> trainer = Trainer(model=model, args=args, train_dataset=ds, callbacks=[cb])
    >>> trainer.train()
    >>> cb.report.verdict

    Options as for the Lightning callback: ``stop_on``, ``print_report``, ``probes``, ``live``, ``json``,
    ``html``.
    """

    def __init__(
        self,
        stop_on: StopOn = None,
        *,
        print_report: bool = True,
        probes: bool = True,
        live: bool = True,
        json: str | Path | None = None,
        html: str | Path | None = None,
        _max_steps: int | None = None,
        _on_begin: Callable[[], None] | None = None,
    ) -> None:
        self.session = TorchSession(
            "hf",
            stop_on,
            probes=probes,
            live=live,
            print_report=print_report,
            json_path=json,
            html_path=html,
            max_steps=_max_steps,
            on_begin=_on_begin,
        )
        #: What the Trainer logged (step, learning rate, gradient norm before clipping, losses).
        self.logged: list[dict[str, float]] = []
        self.evaluations: list[dict[str, float]] = []

    @property
    def report(self) -> Report | None:
        return self.session.report

    @property
    def alert(self) -> Alert | None:
        """The live alert, when the output collapsed during training."""
        return self.session.alert

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        model, optimizer = kwargs.get("model"), kwargs.get("optimizer")
        if model is None:
            return control
        optimizers = (_unwrapped(optimizer),) if optimizer is not None else ()
        self.session.safely("on_train_begin", self.session.begin, model, optimizers)
        self.session.safely("on_train_begin", self.session.expect_steps, getattr(state, "max_steps", None))
        return control

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self.session.safely("on_step_begin", self.session.batch_start)
        return control

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self.session.safely("on_pre_optimizer_step", self.session.before_step)
        return control

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self.session.safely("on_step_end", self.session.after_step)
        if self.session.stop_requested is not None:
            control.should_training_stop = True
        if getattr(control, "should_evaluate", False):  # the Trainer evaluates next
            self.session.safely("on_step_end", self.session.evaluation_start)
        return control

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        self.session.safely("on_log", self._keep, self.logged, state, logs)
        return control

    def on_evaluate(
        self, args: Any, state: Any, control: Any, metrics: dict[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        self.session.safely("on_evaluate", self._keep, self.evaluations, state, metrics)
        return control

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        extra = {k: v for k, v in (("hf_log", self.logged), ("validation", self.evaluations)) if v}
        self.session.safely("on_train_end", self.session.end, extra)
        return control

    @staticmethod
    def _keep(into: list[dict[str, float]], state: Any, values: dict[str, Any] | None) -> None:
        if not values or len(into) >= MAX_LOGS:
            return
        row = {"step": float(getattr(state, "global_step", 0))}
        row.update({str(k): float(v) for k, v in values.items() if isinstance(v, int | float)})
        into.append(row)
