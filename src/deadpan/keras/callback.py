"""``DeadpanCallback``: deadpan inside the user's own ``model.fit(..., callbacks=[...])``.

It follows the Keras 3 callback API (``set_model``, ``on_train_begin``, ``on_train_batch_begin/end``,
``on_epoch_end`` with ``logs``). Per step it reads only the loss from ``logs`` and, on a fixed schedule of
about 20 steps per decade, the trainable weights before and after the step (the update-to-weight ratio). It
finds the data ``fit`` was given from ``fit``'s own arguments, so the user does not pass them twice.
"""

from __future__ import annotations

import inspect
import time
from typing import Any

import keras
import numpy as np

from deadpan.capture import instrument
from deadpan.capture.live import Alert, LiveMonitor, StopOn, check_stop_on, top_cause, warn
from deadpan.findings import Report
from deadpan.keras import data as kdata
from deadpan.keras.run import KerasRun
from deadpan.pipeline import with_live

#: Rows of the training sample the live collapse check runs the model on (spread over the sample).
LIVE_ROWS = 128


def _fit_arguments(model: Any) -> dict[str, Any] | None:
    """The local variables of the ``fit`` call that is training ``model`` (after Keras split off any
    ``validation_split``), or None when this callback is not running inside ``fit``."""
    frame = inspect.currentframe()
    try:
        while frame is not None:
            if frame.f_code.co_name == "fit" and frame.f_locals.get("self") is model:
                return dict(frame.f_locals)
            frame = frame.f_back
    finally:
        del frame
    return None


class DeadpanCallback(keras.callbacks.Callback):
    """Record evidence during ``fit``; diagnose when training ends.

    >>> cb = deadpan.keras.DeadpanCallback(stop_on="collapsed")
    >>> model.fit(x, y, epochs=10, callbacks=[cb])
    >>> cb.report.verdict

    Live alerts: every few steps (spaced to cost at most 3% of the training time) the model runs in
    inference mode on a fixed sample of training rows; once its output has collapsed (one answer for nearly
    every input) a :class:`~deadpan.capture.live.CollapseWarning` says "collapsed at step N" with the likely
    cause, and ``stop_on="collapsed"`` stops training. The checks need the training data as arrays (or
    ``deadpan run``, which samples any data as it passes); ``live=False`` turns them off.
    ``print_report`` prints the report to stderr when training ends. ``probes=False`` skips the probes that
    train copies of the model (faster for large models).
    """

    def __init__(
        self,
        stop_on: StopOn = None,
        *,
        print_report: bool = True,
        probes: bool = True,
        live: bool = True,
        _run: KerasRun | None = None,
        _max_steps: int | None = None,
        _tap: kdata.Tap | None = None,
    ) -> None:
        super().__init__()
        self.stop_on = check_stop_on(stop_on, live)
        # One monitor per model across ``deadpan run``'s fit calls (steps count on).
        self.live = (
            (_run.live if _run is not None and _run.live is not None else LiveMonitor()) if live else None
        )
        #: The live alert, when the output collapsed during training.
        self.alert: Alert | None = None
        self._live_sample: Any = None
        self.print_report = print_report
        self.probes = probes
        self.report: Report | None = None
        #: Step at which training was stopped for a collapse (None when it was not).
        self.stopped_at: int | None = None
        self._managed = _run is not None
        self._max_steps = _max_steps
        self._tap = _tap
        self.run: KerasRun | None = _run
        self._fit: dict[str, Any] | None = None

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        if self.run is None or self.run.model is not model:
            if self._managed and self.run is not None:
                return
            self.run = KerasRun(model)
        if self.run is not None and self.run.live is None:
            self.run.live = self.live

    # Every hook is fail-open: deadpan must never break the user's training.
    def _safe(self, where: str, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except instrument.StopTraining:
            raise
        except Exception as exc:
            if self.run is not None:
                self.run.error(where, exc)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._safe("on_train_begin", self._begin)

    def _begin(self) -> None:
        run = self.run
        assert run is not None
        run.fit_calls += 1
        run.begin_training()
        self._live_sample = None
        self._fit = _fit_arguments(self.model)
        if self._fit is None:
            run.notes.append("the training data (the callback was not called from inside fit)")
            return
        f = self._fit
        x = f.get("x")
        run.data_kind = kdata.kind_of(x)
        run.batch_size = f.get("batch_size") if isinstance(f.get("batch_size"), int) else run.batch_size
        cw = f.get("class_weight")
        if isinstance(cw, dict):
            run.class_weight = {k: float(v) for k, v in cw.items()}
        if f.get("sample_weight") is not None:
            run.sample_weighted = True
        try:
            if run.data_kind == "arrays":
                run.offer_train(kdata.from_arrays(x, f.get("y"), f.get("sample_weight")))
                val = f.get("validation_data")
                if isinstance(val, tuple | list) and len(val) >= 2:
                    run.offer_heldout(kdata.from_arrays(val[0], val[1]))
        except kdata.Unsupported as exc:
            run.notes.append(f"not supported yet: {exc}")

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.run is not None:
            self._safe("on_epoch_begin", self.run.begin_epoch)

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.run is not None:
            self._safe("on_train_batch_begin", self.run.begin_step)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        run = self.run
        if run is None:
            return
        self._safe("on_train_batch_end", run.end_step, batch, (logs or {}).get("loss"), True)
        if self.live is not None and self.live.due(run.steps):
            self._safe("live collapse check", self._live_check)
        if self._max_steps is not None and run.steps >= self._max_steps:
            raise instrument.StopTraining(f"--max-steps {self._max_steps} reached")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.run is not None:
            self._safe("on_epoch_end", self.run.end_epoch, logs)

    def _sample(self) -> Any:
        """The rows the live check runs the model on: spread evenly over the training sample (sorted data
        would give a block of one class), from ``fit``'s arrays or from what ``deadpan run`` tapped."""
        from deadpan.keras.data import Sample

        if self._live_sample is not None:
            return self._live_sample
        run = self.run
        assert run is not None
        sample = run.train
        if sample is None and self._tap is not None and self._tap.kept:
            sample = kdata.from_batches(self._tap.kept)
        if sample is None or len(sample.y) < 2:
            return None
        idx = np.unique(np.linspace(0, len(sample.y) - 1, min(LIVE_ROWS, len(sample.y))).astype(int))
        self._live_sample = Sample(sample.x[idx], sample.y[idx])
        return self._live_sample

    def _live_check(self) -> None:
        from deadpan.keras.build import live_collapse_state, report_for_run

        run, live = self.run, self.live
        assert run is not None and live is not None
        sample = self._sample()
        if sample is None:
            return
        t0 = time.perf_counter()
        live.judge(run.steps, live_collapse_state(self.model, sample), len(sample.y))
        live.spent(time.perf_counter() - t0)
        live.pace(run.step_seconds)
        alert = live.take(lambda: top_cause(report_for_run(run, source="live", train_probes=False)))
        if alert is None:
            return
        self.alert = alert
        warn(alert)
        if self.stop_on == "collapsed":
            self.stopped_at = run.steps
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._safe("on_train_end", self._end)

    def _end(self) -> None:
        run = self.run
        assert run is not None
        f = self._fit or {}
        x = f.get("x")
        try:
            if self._tap is not None:
                run.offer_train(kdata.from_batches(self._tap.kept))
            elif run.data_kind in ("tf.data.Dataset", "PyDataset"):
                run.offer_train(kdata.read_after_training(x))
                val = f.get("validation_data")
                if val is not None and not isinstance(val, tuple | list):
                    run.offer_heldout(kdata.read_after_training(val))
            elif run.data_kind == "generator" and run.train is None:
                run.notes.append(
                    "the training data (a generator is consumed by fit; `deadpan run` samples it as it "
                    "passes)"
                )
        except kdata.Unsupported as exc:
            run.notes.append(f"not supported yet: {exc}")
        self._fit = None
        if self._managed:
            return
        from deadpan.keras.build import report_for_run

        self.report = with_live(report_for_run(run, source="callback", train_probes=self.probes), self.live)
        if self.print_report:
            from deadpan.reports.terminal import print_report

            print_report(self.report)
