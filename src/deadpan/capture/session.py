"""The PyTorch :class:`~deadpan.session.CallbackSession`: the recording half of the Lightning and Hugging Face
callbacks.

A :class:`TorchSession` is a :class:`~deadpan.capture.recorder.Recorder` whose optimizer steps come from
the framework's own hooks (``before_step`` from ``on_before_optimizer_step`` / ``on_pre_optimizer_step``,
``after_step`` from ``on_train_batch_end`` / ``on_step_end``), with live collapse alerts and the report at the
end. Every method is fail-open: an exception inside deadpan becomes an internal-error note, never an
exception in the user's training.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from deadpan.capture.distributed import announce, exchange, world
from deadpan.capture.live import Alert, LiveMonitor, StopOn, check_stop_on
from deadpan.capture.recorder import Recorder
from deadpan.evidence import Evidence
from deadpan.findings import Report

if TYPE_CHECKING:
    from deadpan.capture.probe_inputs import ProbeInputs
    from deadpan.session import CallbackSession


class TorchSession:
    """One training run of a torch module seen through a framework's callbacks (a
    :class:`~deadpan.session.CallbackSession`)."""

    def __init__(
        self,
        source: str,
        stop_on: StopOn = None,
        *,
        probes: bool = True,
        live: bool = True,
        print_report: bool = True,
        json_path: str | Path | None = None,
        html_path: str | Path | None = None,
        max_steps: int | None = None,
        on_begin: Callable[[], None] | None = None,
    ) -> None:
        self.source = source
        self.stop_on = check_stop_on(stop_on, live)
        self.probes = probes
        self.live = live
        self.print_report = print_report
        self.json_path = json_path
        self.html_path = html_path
        #: ``deadpan run --max-steps``: the framework is asked to stop after that many optimizer steps.
        self.max_steps = max_steps
        #: ``deadpan run``: called when training begins (the run's own recorder then stands down).
        self.on_begin = on_begin
        self.recorder: Recorder | None = None
        self.report: Report | None = None
        #: What the report was made from (``deadpan run --verify`` proves fixes from them).
        self.inputs: ProbeInputs | None = None
        self.evidence: Evidence | None = None
        self.alert: Alert | None = None
        #: Why the framework is asked to stop its loop, or None: "collapsed" (``stop_on="collapsed"``) or
        #: "max-steps".
        self.stop_requested: str | None = None
        #: The framework's own warning channel for an alert (Lightning's logger); plain warnings otherwise.
        self.notify: Callable[[Alert], None] | None = None
        self._stepping = False
        self._errors: list[str] = []

    # --- fail-open plumbing ---------------------------------------------------------------------------------
    def safely(self, where: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            if self.recorder is not None:
                self.recorder.internal_error(f"{self.source} {where}", exc)
            elif len(self._errors) < 50:
                self._errors.append(f"{self.source} {where}: {type(exc).__name__}: {exc}")
            return None

    # --- training events ------------------------------------------------------------------------------------
    def steps(self) -> int:
        return self.recorder.step if self.recorder is not None else 0

    def expect_steps(self, steps: Any) -> None:
        """The trainer plans ``steps`` optimizer steps (its own estimate; anything not a positive whole
        number is ignored): the live checks' initial-plateau hold is bounded by it."""
        live = self.recorder.live if self.recorder is not None else None
        if live is not None and isinstance(steps, int | float) and 0 < steps < float("inf"):
            live.expect_steps(int(steps))

    def begin(self, model: nn.Module, optimizers: tuple[torch.optim.Optimizer, ...] = ()) -> None:
        if self.recorder is not None:  # a second fit on the same callback: statistics carry on
            self.recorder.start()
            return
        rec = Recorder(
            model, optimizers, live=LiveMonitor() if self.live else None, steps_from_callbacks=True
        )
        rec.on_alert = self._on_alert
        rec.internal_errors.extend(self._errors)
        self.recorder = rec
        announce()  # under a data-parallel strategy: rank 0 will wait for this rank's report
        if self.on_begin is not None:
            self.on_begin()
        rec.start()

    def batch_start(self) -> None:
        """A training batch begins: the recorder listens to torch events only on the steps it samples."""
        if self.recorder is not None and self.recorder.steps_from_callbacks:
            self.recorder.wake_for_step()

    def evaluation_start(self) -> None:
        """The framework evaluates: its loss calls are the held-out data's, recorded whatever the step."""
        if self.recorder is not None:
            self.recorder.wake()

    def before_step(self) -> None:
        if self.recorder is not None:
            self._stepping = True
            self.recorder.before_step()

    def after_step(self, loss: Any = None, rows: int | None = None) -> None:
        """The optimizer stepped (once per optimizer step, not per accumulated batch); ``loss`` and ``rows``:
        what the framework knows of the step (used on the steps the recorder slept through)."""
        rec = self.recorder
        if rec is not None and self._stepping:
            self._stepping = False
            rec.after_step(loss, rows)
            if self.max_steps is not None and rec.step >= self.max_steps and self.stop_requested is None:
                self.stop_requested = "max-steps"

    def _on_alert(self, rec: Recorder) -> None:
        from deadpan.capture.report import take_alert

        alert = take_alert(rec, self.source)
        if alert is None:
            return
        self.alert = alert
        w = world()
        if w is not None and w.rank != 0:  # under distributed training only rank 0 speaks
            return
        if self.notify is not None:
            self.notify(alert)
        else:
            from deadpan.capture.alerts import warn

            warn(alert)
        # Stopping one rank would leave the others waiting in their next all-reduce.
        if self.stop_on == "collapsed" and w is None:
            self.stop_requested = "collapsed"

    def end(self, extra: dict[str, Any] | None = None) -> Report | None:
        """Stop recording and diagnose; the report (with ``extra`` metrics: what the framework logged) is
        printed and written where asked."""
        rec = self.recorder
        if rec is None or self.report is not None:
            return self.report
        rec.stop()
        from deadpan.capture.report import evidence_and_report, recorder_inputs
        from deadpan.pipeline import with_live

        self.inputs = recorder_inputs(rec, self.source, self.probes)
        self.evidence, report = evidence_and_report(self.inputs)
        report = with_live(report, rec.live)
        if extra:
            from dataclasses import replace

            report = replace(report, metrics={**report.metrics, **extra})
        w = world()
        if w is not None:  # a data-parallel strategy: rank 0's report covers every rank, and only it speaks
            report = exchange(report, w)
        self.report = report
        rec.loader_source = None
        if w is None or w.rank == 0:
            self._write(self.report)
        return self.report

    def _write(self, report: Report) -> None:
        if self.print_report:
            from deadpan.reports.terminal import print_report

            self.safely("print_report", print_report, report)
        if self.json_path is not None:
            self.safely("json", report.to_json, self.json_path)
        if self.html_path is not None:
            self.safely("html", report.to_html, self.html_path)
        sys.stderr.flush()


if TYPE_CHECKING:  # mypy proves that TorchSession is a CallbackSession

    def _is_a_callback_session(session: TorchSession) -> CallbackSession:
        return session
