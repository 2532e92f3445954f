"""The Keras :class:`~deadpan.session.CallbackSession`: what :class:`~deadpan.keras.callback.DeadpanCallback`
records during ``fit``.

Per step it reads only the loss from ``logs`` and, on a fixed schedule of about 20 steps per decade, the
trainable weights before and after the step (the update-to-weight ratio). It finds the data ``fit`` was given
from ``fit``'s own arguments, so the user does not pass them twice. Keras has no hook between the backward
pass and the optimizer step, so :meth:`KerasSession.before_step` does nothing: the weights are read when the
batch starts.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from deadpan.capture.alerts import top_cause, warn
from deadpan.capture.live import Alert, LiveMonitor, StopOn, check_stop_on
from deadpan.findings import Report
from deadpan.keras import data as kdata
from deadpan.keras.describe import judged_output
from deadpan.keras.run import KerasRun
from deadpan.pipeline import with_live

if TYPE_CHECKING:
    from deadpan.session import CallbackSession

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


class KerasSession:
    """One Keras model's training seen through ``fit``'s callbacks (a
    :class:`~deadpan.session.CallbackSession`).

    ``run``: the :class:`KerasRun` to feed (``deadpan run`` keeps one per model across ``fit`` calls and makes
    the report itself: the session is then *managed* and makes none); ``max_steps``: ``deadpan run
    --max-steps``; ``tap``: the pass-through of a generator ``deadpan run`` sampled.
    """

    source = "callback"

    def __init__(
        self,
        stop_on: StopOn = None,
        *,
        print_report: bool = True,
        probes: bool = True,
        live: bool = True,
        run: KerasRun | None = None,
        max_steps: int | None = None,
        tap: kdata.Tap | None = None,
    ) -> None:
        self.stop_on = check_stop_on(stop_on, live)
        # One monitor per model across ``deadpan run``'s fit calls (steps count on).
        self.live = (
            (run.live if run is not None and run.live is not None else LiveMonitor()) if live else None
        )
        self.alert: Alert | None = None
        self.print_report = print_report
        self.probes = probes
        self.report: Report | None = None
        #: Step at which training was stopped for a collapse (None when it was not).
        self.stopped_at: int | None = None
        self.stop_requested: str | None = None
        self.managed = run is not None
        self.max_steps = max_steps
        self.tap = tap
        self.run: KerasRun | None = run
        self.model: Any = None
        self._fit: dict[str, Any] | None = None
        self._live_sample: Any = None

    # --- fail-open plumbing ---------------------------------------------------------------------------------
    def safely(self, where: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            if self.run is not None:
                self.run.error(where, exc)
            return None

    def steps(self) -> int:
        return self.run.steps if self.run is not None else 0

    def attach(self, model: Any) -> None:
        """Keras set the callback's model: the run follows it (a managed run keeps its own model)."""
        self.model = model
        if self.run is None or self.run.model is not model:
            if self.managed and self.run is not None:
                return
            self.run = KerasRun(model)
        if self.run.live is None:
            self.run.live = self.live

    # --- training events ------------------------------------------------------------------------------------
    def begin(self, model: Any = None, optimizers: tuple[Any, ...] = ()) -> None:
        """``fit`` begins: its arguments give the data (arrays are read now, datasets after training)."""
        run = self.run
        assert run is not None
        run.fit_calls += 1
        run.begin_training()
        self._live_sample = None
        self._fit = _fit_arguments(model if model is not None else self.model)
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
        run.head = judged_output(run.model)
        try:
            if run.data_kind == "arrays":
                run.offer_train(kdata.from_arrays(x, f.get("y"), f.get("sample_weight"), head=run.head))
                val = f.get("validation_data")
                if isinstance(val, tuple | list) and len(val) >= 2:
                    run.offer_heldout(kdata.from_arrays(val[0], val[1], head=run.head))
        except kdata.Unsupported as exc:
            run.notes.append(f"not supported yet: {exc}")

    def epoch_start(self) -> None:
        if self.run is not None:
            self.safely("on_epoch_begin", self.run.begin_epoch)

    def epoch_end(self, logs: dict[str, Any] | None) -> None:
        if self.run is not None:
            self.safely("on_epoch_end", self.run.end_epoch, logs)

    def batch_start(self) -> None:
        if self.run is not None:
            self.safely("on_train_batch_begin", self.run.begin_step)

    def before_step(self) -> None:
        """Keras calls no hook between the backward pass and the step: the batch start read the weights."""

    def evaluation_start(self) -> None:
        """Keras' validation losses come with the epoch's logs (:meth:`epoch_end`)."""

    def after_step(self, loss: Any = None, rows: int | None = None, batch: int | None = None) -> None:
        """The step ended with ``loss`` (Keras' running mean since the epoch began, ``batch`` its index)."""
        run = self.run
        if run is None:
            return
        self.safely("on_train_batch_end", run.end_step, batch, loss, True)
        if self.live is not None and self.live.due(run.steps):
            self.safely("live collapse check", self._live_check)
        if self.max_steps is not None and run.steps >= self.max_steps:
            self.stop_requested = "max-steps"

    def _sample(self) -> Any:
        """The rows the live check runs the model on: spread evenly over the training sample (sorted data
        would give a block of one class), from ``fit``'s arrays or from what ``deadpan run`` tapped."""
        if self._live_sample is not None:
            return self._live_sample
        run = self.run
        assert run is not None
        sample = run.train
        if sample is None and self.tap is not None and self.tap.kept:
            sample = kdata.from_batches(self.tap.kept)
        if sample is None or len(sample.y) < 2:
            return None
        idx = np.unique(np.linspace(0, len(sample.y) - 1, min(LIVE_ROWS, len(sample.y))).astype(int))
        parts = kdata.feed_rows(sample.parts, idx) if sample.parts is not None else None
        self._live_sample = kdata.Sample(sample.x[idx], sample.y[idx], parts=parts)
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
            self.stop_requested = "collapsed"

    def end(self, extra: dict[str, Any] | None = None) -> Report | None:
        """Training ended: datasets are read now; an unmanaged session diagnoses and prints the report."""
        run = self.run
        assert run is not None
        f = self._fit or {}
        x = f.get("x")
        try:
            if self.tap is not None:
                run.offer_train(kdata.from_batches(self.tap.kept))
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
        if self.managed:
            return None
        from deadpan.keras.build import report_for_run

        self.report = with_live(report_for_run(run, source="callback", train_probes=self.probes), self.live)
        if extra:
            from dataclasses import replace

            self.report = replace(self.report, metrics={**self.report.metrics, **extra})
        if self.print_report:
            from deadpan.reports.terminal import print_report

            print_report(self.report)
        return self.report


if TYPE_CHECKING:  # mypy proves that KerasSession is a CallbackSession

    def _is_a_callback_session(session: KerasSession) -> CallbackSession:
        return session
