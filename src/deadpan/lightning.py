"""deadpan inside a Lightning 2.x ``Trainer``: ``Trainer(callbacks=[deadpan.lightning.DeadpanCallback()])``.

Install with ``pip install 'deadpan[lightning]'``. The callback records through Lightning's own hooks:

- ``on_train_batch_start`` (first batch): finds the module the batches go through. ``training_step`` often
  calls a submodule (``self.model(x)``) rather than the LightningModule's own ``forward``; the first module
  called with the batch's input is the model deadpan probes;
- ``on_before_optimizer_step``: gradients, before Lightning clips them (and after AMP unscales them);
  Lightning runs ``training_step`` and ``backward`` inside ``optimizer.step(closure)``, so this hook, not a
  hook on ``step``, is where a step's gradients are final;
- ``on_train_batch_end``: the step is done (update ratio, step count, live collapse check);
- ``on_validation_start`` / ``on_validation_epoch_end``: validation losses are held-out evidence; the
  validation metrics Lightning collected.

Between the steps it samples (the first 10, then about 20 per decade) the recorder sleeps (no torch event
reaches it, no hook of deadpan's is on the model) and takes each step's loss from ``training_step``'s
output; on a live check's step (every 5 to 10 steps) it listens for the loss call alone:
Lightning owns the loop, so the per-step loop bugs the patches reveal in a hand-written loop cannot happen.

Losses computed with ``torch.nn.functional`` (or the loss modules) are seen as in any PyTorch loop. When the
output collapses, a :class:`~deadpan.capture.live.CollapseWarning` goes through Lightning's warning channel
(``rank_zero_warn``) and to the trainer's logger as ``deadpan/collapsed_at``; ``stop_on="collapsed"`` stops
the trainer. The report is made when fitting ends (``teardown``), printed, and written as JSON or HTML when
asked: ``callback.report``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

try:
    import lightning.pytorch as pl
except ImportError:  # pragma: no cover - depends on the environment
    try:
        import pytorch_lightning as pl
    except ImportError as exc:
        raise ImportError("deadpan.lightning needs Lightning 2.x: pip install 'deadpan[lightning]'") from exc

from deadpan.capture.live import Alert, CollapseWarning, StopOn
from deadpan.capture.session import TorchSession
from deadpan.findings import Report
from deadpan.probes.tensors import first_tensor


class _Hooks:
    """Record evidence while a Lightning ``Trainer`` fits; alert live on a collapse; diagnose at the end.

    >>> cb = deadpan.lightning.DeadpanCallback(stop_on="collapsed", html="report.html")
    >>> trainer = lightning.Trainer(max_epochs=5, callbacks=[cb])
    >>> trainer.fit(module, train_loader, val_loader)
    >>> cb.report.verdict

    ``stop_on="collapsed"`` stops training once the output collapsed (one answer for nearly every input);
    ``print_report`` prints the report when fitting ends; ``json``/``html`` write it there too;
    ``probes=False`` skips the probes that train copies of the model (faster for large models).
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
        super().__init__()
        self.session = TorchSession(
            "lightning",
            stop_on,
            probes=probes,
            live=live,
            print_report=print_report,
            json_path=json,
            html_path=html,
            max_steps=_max_steps,
            on_begin=_on_begin,
        )
        self.validation: list[dict[str, float]] = []
        self._trainer: Any = None
        self._finder: Any = None
        self._found = False

    @property
    def report(self) -> Report | None:
        return self.session.report

    @property
    def alert(self) -> Alert | None:
        """The live alert, when the output collapsed during training."""
        return self.session.alert

    # --- hooks ----------------------------------------------------------------------------------------------
    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        self._trainer = trainer
        self.session.notify = self._notify
        self.session.safely("on_fit_start", self.session.begin, pl_module, tuple(trainer.optimizers))
        self.session.safely("on_fit_start", self._expect_steps, trainer)

    def _expect_steps(self, trainer: Any) -> None:
        self.session.expect_steps(trainer.estimated_stepping_batches)

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        if not self._found and self._finder is None:
            self.session.safely("on_train_batch_start", self._find_model, pl_module, batch)
        self.session.safely("on_train_batch_start", self.session.batch_start)

    def on_before_optimizer_step(
        self, trainer: Any, pl_module: Any, optimizer: torch.optim.Optimizer
    ) -> None:
        self.session.safely("on_before_optimizer_step", self.session.before_step)

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self._finder is not None:
            self._stop_finding()
        # What Lightning knows of the step stands in for the torch events the recorder slept through.
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        self.session.safely("on_train_batch_end", self.session.after_step, loss, _rows(batch))
        if self.session.stop_requested is not None:
            trainer.should_stop = True

    def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
        self.session.safely("on_validation_start", self.session.evaluation_start)

    def on_validation_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        self.session.safely("on_validation_epoch_end", self._validation_metrics, trainer)

    def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if stage != "fit":
            return
        self._stop_finding()
        extra = {"validation": self.validation} if self.validation else None
        self.session.safely("teardown", self.session.end, extra)

    # --- helpers --------------------------------------------------------------------------------------------
    def _find_model(self, pl_module: nn.Module, batch: Any) -> None:
        """Until the first batch ends, the first module (the outermost) called with the batch's input tensor
        becomes the model the recorder follows."""
        x = first_tensor(batch)
        rec = self.session.recorder
        if x is None or rec is None:
            self._found = True
            return
        mine = {id(m) for m in pl_module.modules()}

        def pre(module: nn.Module, args: Any) -> None:
            if self._found or id(module) not in mine or not args or args[0] is not x:
                return
            self._found = True
            if module is not pl_module:
                rec.attach(module)
                rec._on_forward_pre(module, args, {})  # this call's own pre-hooks are already listed

        def guarded(module: nn.Module, args: Any) -> None:  # inside the user's forward: never raise
            self.session.safely("finding the model", pre, module, args)

        self._finder = torch.nn.modules.module.register_module_forward_pre_hook(guarded)

    def _stop_finding(self) -> None:
        if self._finder is not None:
            self._finder.remove()
            self._finder = None
            self._found = True

    def _notify(self, alert: Alert) -> None:
        from lightning.pytorch.utilities import rank_zero_warn

        rank_zero_warn(alert.message(), category=CollapseWarning)
        logger = getattr(self._trainer, "logger", None)
        if logger is not None:
            with contextlib.suppress(Exception):
                logger.log_metrics({"deadpan/collapsed_at": float(alert.step)}, step=alert.fired_at)

    def _validation_metrics(self, trainer: Any) -> None:
        values: dict[str, float] = {"step": float(trainer.global_step)}
        for k, v in trainer.callback_metrics.items():
            if isinstance(v, torch.Tensor) and v.numel() == 1:
                values[str(k)] = float(v)
        if len(self.validation) < 1000:
            self.validation.append(values)


def _rows(batch: Any) -> int | None:
    x = first_tensor(batch)
    return int(x.shape[0]) if x is not None and x.dim() > 0 else None


class DeadpanCallback(_Hooks, pl.Callback):
    __doc__ = _Hooks.__doc__


def pytorch_lightning_callback() -> type:
    """The same callback for ``pytorch_lightning.Trainer`` (the standalone package checks the base class)."""
    import pytorch_lightning

    if issubclass(DeadpanCallback, pytorch_lightning.Callback):
        return DeadpanCallback
    return type("DeadpanCallback", (_Hooks, pytorch_lightning.Callback), {"__doc__": _Hooks.__doc__})
