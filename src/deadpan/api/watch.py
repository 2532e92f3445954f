"""``deadpan.watch``: monitor the user's own training loop, live, and diagnose it on exit.

Monitoring adds no forward passes and draws no random numbers; hooks are removed on exit.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType

import torch
from torch import nn

from deadpan.capture import instrument
from deadpan.capture.alerts import warn
from deadpan.capture.distributed import announce, exchange, world
from deadpan.capture.live import Alert, LiveMonitor, StopOn, check_stop_on
from deadpan.capture.recorder import Recorder
from deadpan.capture.report import recorder_inputs, report_from, take_alert
from deadpan.findings import Report
from deadpan.pipeline import failed_report, with_live


class Watch:
    """Context manager returned by :func:`watch`; holds the :class:`Report` after the block."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer | Iterable[torch.optim.Optimizer] | None = None,
        max_steps: int | None = None,
        probes: bool = True,
        stop_on: StopOn = None,
        live: bool = True,
    ) -> None:
        if isinstance(optimizer, torch.optim.Optimizer):
            opts: tuple[torch.optim.Optimizer, ...] = (optimizer,)
        else:
            opts = tuple(optimizer or ())
        self.model = model
        self.optimizers = opts
        self.max_steps = max_steps
        self.probes = probes
        self.stop_on = check_stop_on(stop_on, live)
        self.live = live
        self.recorder: Recorder | None = None
        self.report: Report | None = None
        #: The live alert, when the output collapsed during the block.
        self.alert: Alert | None = None
        #: Step at which the block was stopped for a collapse (``stop_on="collapsed"``), else None.
        self.stopped_at: int | None = None

    def __enter__(self) -> Watch:
        self.recorder = Recorder(
            self.model, self.optimizers, max_steps=self.max_steps, live=LiveMonitor() if self.live else None
        )
        self.recorder.on_alert = self._alert
        announce()  # under distributed training: rank 0 will wait for this rank's report
        self.recorder.start()
        return self

    def _alert(self, rec: Recorder) -> None:
        alert = take_alert(rec, "watch")
        if alert is None:
            return
        self.alert = alert
        w = world()
        if w is None or w.rank == 0:  # under distributed training only rank 0 speaks
            warn(alert)
        # Stopping one rank would leave the others waiting in their next all-reduce.
        if self.stop_on == "collapsed" and w is None:
            self.stopped_at = rec.step
            raise instrument.StopTraining(f"the output collapsed at step {alert.step} (stop_on='collapsed')")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        rec = self.recorder
        assert rec is not None
        rec.stop()
        try:
            self.report = with_live(report_from(recorder_inputs(rec, "watch", self.probes)), rec.live)
        except Exception as exc:  # the user's block is over: deadpan's failure must not raise into it
            self.report = failed_report(exc, "making the report", rec.internal_errors)
        w = world()
        if w is not None:  # every rank diagnosed its shard; rank 0's report now covers them all
            self.report = exchange(self.report, w)
        return exc_type is instrument.StopTraining


def watch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer | Iterable[torch.optim.Optimizer] | None = None,
    *,
    max_steps: int | None = None,
    probes: bool = True,
    stop_on: StopOn = None,
    live: bool = True,
) -> Watch:
    """Monitor the user's own training loop; diagnose on exit.

    >>> with deadpan.watch(model, optimizer) as w:
    ...     for x, y in loader: ...
    >>> print(w.report)

    Monitoring adds no forward passes and draws no random numbers; statistics are detached and sampled.
    ``max_steps`` ends the block after that many optimizer steps.

    Live alerts: every few steps the output the loss received is checked; once it has collapsed (one answer
    for nearly every input) a :class:`~deadpan.capture.live.CollapseWarning` says "collapsed at step N" with
    the likely cause, and ``stop_on="collapsed"`` then ends the block (the report is still made).
    ``live=False`` turns the checks off.
    """
    return Watch(model, optimizer, max_steps=max_steps, probes=probes, stop_on=stop_on, live=live)
