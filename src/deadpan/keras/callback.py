"""``DeadpanCallback``: deadpan inside the user's own ``model.fit(..., callbacks=[...])``.

It follows the Keras 3 callback API (``set_model``, ``on_train_begin``, ``on_train_batch_begin/end``,
``on_epoch_end`` with ``logs``). Per step it reads only the loss from ``logs`` and, on a fixed schedule of
about 20 steps per decade, the trainable weights before and after the step (the update-to-weight ratio). It
finds the data ``fit`` was given from ``fit``'s own arguments, so the user does not pass them twice.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any, Literal

import keras

from deadpan.capture import instrument
from deadpan.findings import Report
from deadpan.keras import data as kdata
from deadpan.keras.run import KerasRun

StopOn = Literal["collapsed"] | None
#: Consecutive epoch ends with a collapsed output before ``stop_on="collapsed"`` stops training: one can be
#: the untrained model's first answer; two in a row is a model that settled there.
STOP_AFTER_EPOCHS = 2
#: Rows of the training sample used for the live collapse check at each epoch end.
LIVE_ROWS = 256


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

    ``stop_on="collapsed"`` stops training once the model answers the same for (nearly) every training
    sample at two consecutive epoch ends. ``print_report`` prints the report to stderr when training ends.
    ``probes=False`` skips the probes that train copies of the model (faster for large models).
    """

    def __init__(
        self,
        stop_on: StopOn = None,
        *,
        print_report: bool = True,
        probes: bool = True,
        _run: KerasRun | None = None,
        _max_steps: int | None = None,
        _tap: kdata.Tap | None = None,
    ) -> None:
        super().__init__()
        if stop_on not in (None, "collapsed"):
            raise ValueError(f"stop_on must be None or 'collapsed', not {stop_on!r}")
        self.stop_on = stop_on
        self.print_report = print_report
        self.probes = probes
        self.report: Report | None = None
        #: Step at which training was stopped for a collapse (None when it was not).
        self.stopped_at: int | None = None
        self._managed = _run is not None
        self._max_steps = _max_steps
        self._tap = _tap
        self.run: KerasRun | None = _run
        self._collapsed_epochs = 0
        self._fit: dict[str, Any] | None = None

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        if self.run is None or self.run.model is not model:
            if self._managed and self.run is not None:
                return
            self.run = KerasRun(model)

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
        self._collapsed_epochs = 0
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
        if self._max_steps is not None and run.steps >= self._max_steps:
            raise instrument.StopTraining(f"--max-steps {self._max_steps} reached")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.run is None:
            return
        self._safe("on_epoch_end", self.run.end_epoch, logs)
        if self.stop_on == "collapsed":
            self._safe("live collapse check", self._check_collapse)

    def _check_collapse(self) -> None:
        from deadpan.keras.build import live_collapse

        run = self.run
        assert run is not None
        if run.train is None or not live_collapse(self.model, run.train, LIVE_ROWS):
            self._collapsed_epochs = 0
            return
        self._collapsed_epochs += 1
        if self._collapsed_epochs >= STOP_AFTER_EPOCHS:
            self.stopped_at = run.steps
            self.model.stop_training = True
            sys.stderr.write(
                f"deadpan: the output collapsed (one answer for nearly every input) at step {run.steps}; "
                "stopping training (stop_on='collapsed').\n"
            )

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

        self.report = report_for_run(run, source="callback", train_probes=self.probes)
        if self.print_report:
            from deadpan.reports.terminal import print_report

            print_report(self.report)
