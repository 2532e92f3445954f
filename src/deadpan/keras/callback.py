"""``DeadpanCallback``: deadpan inside the user's own ``model.fit(..., callbacks=[...])``.

It follows the Keras 3 callback API (``set_model``, ``on_train_begin``, ``on_train_batch_begin/end``,
``on_epoch_end`` with ``logs``) and turns each hook into a call of its
:class:`~deadpan.keras.session.KerasSession`, the Keras :class:`~deadpan.session.CallbackSession`.
"""

from __future__ import annotations

from typing import Any

import keras

from deadpan.capture import instrument
from deadpan.capture.live import Alert, StopOn
from deadpan.findings import Report
from deadpan.keras import data as kdata
from deadpan.keras.run import KerasRun, head_log
from deadpan.keras.session import KerasSession


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
        self.session = KerasSession(
            stop_on,
            print_report=print_report,
            probes=probes,
            live=live,
            run=_run,
            max_steps=_max_steps,
            tap=_tap,
        )

    @property
    def report(self) -> Report | None:
        return self.session.report

    @property
    def alert(self) -> Alert | None:
        """The live alert, when the output collapsed during training."""
        return self.session.alert

    @property
    def stopped_at(self) -> int | None:
        """Step at which training was stopped for a collapse (None when it was not)."""
        return self.session.stopped_at

    @property
    def run(self) -> KerasRun | None:
        return self.session.run

    # --- hooks: every one is fail-open, deadpan must never break the user's training ------------------------
    def set_model(self, model: Any) -> None:
        super().set_model(model)
        self.session.attach(model)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.session.safely("on_train_begin", self.session.begin, self.model)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.session.epoch_start()

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.session.batch_start()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        session = self.session
        head = session.run.head if session.run is not None else None
        session.after_step(head_log(logs, "loss", head), None, batch)
        if session.stopped_at is not None:
            self.model.stop_training = True
        if session.stop_requested == "max-steps":
            raise instrument.StopTraining(f"--max-steps {session.max_steps} reached")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.session.epoch_end(logs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.session.safely("on_train_end", self.session.end)
