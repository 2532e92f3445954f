"""Live collapse alerts: notice the moment a training's output goes flat, not after the run.

Every framework path (``watch`` and ``deadpan run`` for PyTorch, the Keras callback, the Lightning and
Hugging Face callbacks) feeds one :class:`LiveMonitor` with outputs it can see cheaply:

- PyTorch: the tensors the training loss already received (its input and target), copied every ``every``
  steps (at most :data:`ROWS_PER_CHECK` rows), so the check adds no forward pass;
- Keras: ``fit`` shows a callback no outputs, so the check runs the model in inference mode on a fixed
  sample of training rows every ``every`` steps (no dropout, no batch-statistics update, no random draw).

A check judges the output of one batch collapsed by the report's own rule
(:func:`deadpan.diagnosis.is_collapsed`). An alert needs :data:`CONFIRM` collapsed checks in a row holding
:data:`MIN_ROWS` rows over at least :data:`MIN_SPAN` steps: one unlucky batch, or an untrained model's
first answers, are not a collapse. Checks run every 5 steps, spaced out to at most 10 where they would cost
more than 3% of the training time (:meth:`LiveMonitor.pace`); an alert then fires 20 to 30 steps after the
output settles, inside the 50 steps the live alerts promise (measured in ``benchmarks/live_onset.py``). An
output that recovers and collapses again alerts again.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from deadpan.probes.arrays import to_numpy
from deadpan.probes.outputs import CollapseState, collapse_state
from deadpan.probes.task import infer_task

#: Steps between live checks.
EVERY = 5
#: Checks are spaced out to cost at most this share of the training time, never more than MAX_EVERY apart
#: (an alert then still fires within 30 steps of the output settling: 20 of MIN_SPAN and up to 10 to the
#: first collapsed check).
BUDGET = 0.03
MAX_EVERY = 10
#: The latest checks whose costs, and steps holding a check whose durations, :meth:`LiveMonitor.pace`
#: weighs (their medians).
CHECK_STEPS_KEPT = 5
#: Rows one check copies from a batch.
ROWS_PER_CHECK = 256
#: An alert needs at least :data:`CONFIRM` collapsed checks in a row, holding :data:`MIN_ROWS` rows together.
#: Each check is judged on its own batch: a collapsed model's one answer drifts from step to step, so batches
#: of different steps pooled would look varied.
CONFIRM = 2
MIN_ROWS = 64
#: ... and spanning at least this many steps: an untrained model often answers one class for every input
#: for its first few steps (near-equal logits, the output bias decides), then learns.
MIN_SPAN = 20

#: The initial plateau: an untrained model often gives one answer for every input while its loss sits at its
#: starting value, for tens of steps (a small BERT under the Hugging Face Trainer for about 45 of 250, a
#: Conv1D classifier for 25), and then learns. A streak that began at the first check, with every check's
#: loss within this share of the first check's, is held back: no alert while the loss has not moved. A model
#: that learned and then collapsed, or whose loss moved (jumped, fell to the class prior) and stays
#: collapsed, alerts as before.
PLATEAU_TOLERANCE = 0.05
#: ... held back until this share of the run, when its length is known (:attr:`LiveMonitor.plateau_limit`):
#: a model still on its initial loss with one answer for a quarter of its training is not a plateau it will
#: leave in time. Where the length is not known (a hand-written loop), held back while the loss stays put.
PLATEAU_SHARE = 0.25

#: A collapsed streak whose outputs' spread grows to this multiple of what it was when the streak began is a
#: model leaving a plateau (see :meth:`LiveMonitor._still_learning`).
SPREAD_GROWTH = 2.0
#: A streak whose outputs spread at least this share of the collapse bar (median of its checks) sits at the
#: edge of it, not on a constant (see :meth:`LiveMonitor._at_the_edge`).
EDGE_SHARE = 0.5
#: Checks on each side of the loss-trend comparison (the latest ones against those before).
TREND_CHECKS = 2

StopOn = Literal["collapsed"] | None


class CollapseWarning(UserWarning):
    """Warned during training when deadpan sees the output collapse (filter it like any warning)."""


@dataclass(frozen=True)
class Alert:
    """A live collapse alert."""

    #: The step (optimizer steps completed) of the first check in the collapsed streak: the onset as seen.
    step: int
    #: The step at which the alert fired (the check that confirmed it).
    fired_at: int
    state: CollapseState
    #: The top cause and its evidence from a quick diagnosis at alert time ("" when none was named).
    cause: str = ""

    def message(self) -> str:
        s = self.state
        if s.nonfinite_outputs:
            what = "the outputs are NaN or infinite"
        elif s.distinct_predictions <= 1:
            what = "one answer for every input"
        else:
            what = f"{s.majority_share:.0%} of predictions are one answer, spread {s.output_spread_ratio:.2f}"
        text = f"deadpan: the output collapsed at step {self.step} ({what})."
        if self.cause:
            text += f" Likely cause: {self.cause}."
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "collapsed_at": self.step,
            "detected_at": self.fired_at,
            "distinct_predictions": self.state.distinct_predictions,
            "majority_share": round(self.state.majority_share, 4),
            "output_spread_ratio": round(self.state.output_spread_ratio, 4),
            "nonfinite_outputs": self.state.nonfinite_outputs,
            "cause": self.cause,
        }


class LiveMonitor:
    """Collapse-onset detection from sampled outputs; framework-neutral (see the module docstring).

    ``observe`` records one check; ``pending`` holds an alert once confirmed, which the framework path takes
    with ``take`` at a safe point (after the optimizer step) to warn, and maybe stop training.
    """

    def __init__(self, every: int = EVERY, confirm: int = CONFIRM, min_rows: int = MIN_ROWS) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, not {every}")
        self.every = self.base_every = every
        self.confirm = confirm
        self.min_rows = min_rows
        self._last_check: int | None = None
        self._streak_start: int | None = None
        self._streak = 0
        self._streak_rows = 0
        self.checks = 0
        self.skipped = 0
        self.seconds = 0.0
        #: The latest checks' own costs (:meth:`spent`), and the durations of the latest steps that held a
        #: check (:meth:`step_done`).
        self._costs: list[float] = []
        self._check_steps: list[float] = []
        #: The latest alert (an output that recovers and collapses again alerts again), and how many.
        self.alert: Alert | None = None
        self.alerts = 0
        self._alerted = False
        self.pending: Alert | None = None
        #: Step of the first healthy check after an alert (the output recovered), else None.
        self.recovered_at: int | None = None
        #: The initial plateau (:data:`PLATEAU_TOLERANCE`): the first check's loss, whether every check so far
        #: was collapsed, and the step from which a flat start alerts anyway (None: not known, never).
        self._first_loss: float | None = None
        self._never_healthy = True
        self.plateau_limit: int | None = None
        #: Alerts held back as a plateau (the initial one, or a streak whose loss still falls).
        self.held = 0
        #: The loss and output spread at the check that began the current collapsed streak.
        self._streak_first: tuple[float | None, float] = (None, float("nan"))
        self._streak_losses: list[float] = []
        self._streak_spreads: list[float] = []

    def mark(self, step: int) -> None:
        """A check at ``step`` is on its way (run once the step is done)."""
        self._last_check = step

    def due(self, step: int) -> bool:
        return self._last_check is None or step - self._last_check >= self.every

    def step_done(self, step: int, seconds: float) -> None:
        """Training step ``step`` took ``seconds``. A step that held a check costs more than the check itself:
        under Lightning or the Hugging Face Trainer the recorder listens to torch events through that step
        only, and on a ~1 ms step that costs as much again as the check. :meth:`pace` counts that excess."""
        if step == self._last_check:
            self._check_steps.append(seconds)
            del self._check_steps[:-CHECK_STEPS_KEPT]

    def pace(self, step_seconds: Sequence[float]) -> None:
        """Space the checks so that they cost at most :data:`BUDGET` of the training time (between
        :data:`EVERY` and :data:`MAX_EVERY` steps apart), judged against the median of the latest step times
        (``step_seconds``). A check's cost is its own time (a Keras check runs the model, which on a tiny
        model costs as much as a few steps), or, where larger, how much longer the steps holding a check took
        than the median step (see :meth:`step_done`)."""
        recent = sorted(step_seconds[-15:])
        if self.checks + self.skipped == 0 or not recent or recent[len(recent) // 2] <= 0:
            return
        step = recent[len(recent) // 2]
        cost = _median(self._costs) if self._costs else self.seconds / (self.checks + self.skipped)
        if self._check_steps:
            cost = max(cost, _median(self._check_steps) - step)
        self.every = max(self.base_every, min(MAX_EVERY, math.ceil(cost / (BUDGET * step))))

    def spent(self, seconds: float) -> None:
        """One check took ``seconds`` (its model run included, where it needed one). :meth:`pace` weighs the
        median of the latest: the first check's one-off costs (imports) would swamp a mean."""
        self.seconds += seconds
        self._costs.append(seconds)
        del self._costs[:-CHECK_STEPS_KEPT]

    def expect_steps(self, steps: int | None) -> None:
        """The run will take ``steps`` optimizer steps (a trainer's plan): an initial plateau is held back for
        :data:`PLATEAU_SHARE` of them at most."""
        if steps is not None and steps > 0:
            self.plateau_limit = int(PLATEAU_SHARE * steps)

    def observe(
        self,
        step: int,
        output: Any,
        target: Any,
        loss: str | None,
        spent: float = 0.0,
        loss_value: float | None = None,
    ) -> None:
        """One check at ``step`` on the output the loss received and its target (arrays, or torch tensors on
        any device); ``spent``: the seconds already spent on it (the inference-mode forward that produced
        ``output``); ``loss_value``: the training loss at that step, when known (see
        :data:`PLATEAU_TOLERANCE`)."""
        t0 = time.perf_counter()
        self._last_check = step
        out = to_numpy(output[:ROWS_PER_CHECK]).astype(np.float32, copy=False)
        tgt = to_numpy(target[:ROWS_PER_CHECK])
        if out.ndim == 0 or tgt.ndim == 0 or len(out) < 2 or _one_target(tgt):
            # A batch of one target (sorted data, one class per batch) cannot tell one answer for every
            # input from the right answer for this batch: no judgement either way.
            self.skipped += 1
        else:
            state = collapse_state(infer_task(loss, out, tgt), out, tgt)
            self.judge(step, state, len(out), loss_value)
        self.spent(spent + time.perf_counter() - t0)

    def _on_initial_plateau(self, step: int, loss_value: float | None) -> bool:
        """Every check so far collapsed and this one's loss still at the first check's (within
        :data:`PLATEAU_TOLERANCE`), before :attr:`plateau_limit`: the untrained model's start, not a collapse
        yet. Without a loss value (Keras judges its own sample) nothing is held back."""
        if loss_value is None or not math.isfinite(loss_value) or not self._never_healthy:
            return False
        if self._first_loss is None:
            self._first_loss = loss_value
        if self.plateau_limit is not None and step >= self.plateau_limit:
            return False
        return abs(loss_value - self._first_loss) <= PLATEAU_TOLERANCE * abs(self._first_loss)

    def _still_learning(self, loss_value: float | None, state: CollapseState) -> bool:
        """In the collapsed streak, the loss of the latest :data:`TREND_CHECKS` checks is more than
        :data:`PLATEAU_TOLERANCE` below that of the ones before, or the latest is a new low of the streak
        more than the tolerance below its first, or the outputs' spread grew to
        :data:`SPREAD_GROWTH` times what it was when the streak began, or the streak sits at the edge of the
        spread bar (:meth:`_at_the_edge`): a model on its way out of a plateau (an autoencoder past its mean
        image), not a collapse. Held back until the loss stops falling and the
        spread stops growing. A loss still above the run's first (falling back after it exploded) does not
        count."""
        _, first_spread = self._streak_first
        recent = self._streak_losses[-2 * TREND_CHECKS :]
        latest = sum(recent[TREND_CHECKS:]) / TREND_CHECKS
        # Below where the run began: a loss falling back from an explosion is not learning.
        learning = self._first_loss is None or latest <= self._first_loss
        falling = (
            len(recent) == 2 * TREND_CHECKS
            and learning
            and latest < (1 - PLATEAU_TOLERANCE) * sum(recent[:TREND_CHECKS]) / TREND_CHECKS
        )
        # Or still making new lows, past the tolerance below where the streak began: checks paced unevenly
        # can put a slow fall inside the tolerance of two windows while it keeps going down.
        first_loss = self._streak_losses[0] if self._streak_losses else None
        lows = (
            first_loss is not None
            and learning
            and len(self._streak_losses) > 1
            and self._streak_losses[-1] < min(self._streak_losses[:-1])
            and self._streak_losses[-1] < (1 - PLATEAU_TOLERANCE) * first_loss
        )
        spread = state.output_spread_ratio
        growing = (
            math.isfinite(spread) and math.isfinite(first_spread) and spread > SPREAD_GROWTH * first_spread
        )
        return falling or lows or growing or self._at_the_edge(learning)

    def _at_the_edge(self, learning: bool) -> bool:
        """The streak's outputs, judged by their spread (a regression's), spread at least
        :data:`EDGE_SHARE` of the collapse bar (:data:`~deadpan.diagnosis.COLLAPSE_SPREAD`) at the median of
        its checks, with the loss below the run's first: a model at the edge of the bar after learning
        something (an autoencoder near its mean image, in and out of the bar from batch to batch), not one
        settled on a constant, whose spread sits far below it."""
        from deadpan.diagnosis import COLLAPSE_SPREAD

        spreads = sorted(self._streak_spreads)
        if not learning or self._first_loss is None or not spreads:
            return False
        return spreads[len(spreads) // 2] >= EDGE_SHARE * COLLAPSE_SPREAD

    def judge(self, step: int, state: CollapseState, rows: int, loss_value: float | None = None) -> None:
        """Count one check of ``rows`` rows (Keras judges its fixed sample itself and calls this directly)."""
        self._last_check = step
        self.checks += 1
        plateau = self._on_initial_plateau(step, loss_value)
        if not state.collapsed:
            self._never_healthy = False
            self._streak, self._streak_rows, self._streak_start = 0, 0, None
            if self._alerted and self.recovered_at is None:
                self.recovered_at = step
            self._alerted = False  # a later collapse alerts again
            return
        if self._streak == 0:
            self._streak_start = step
            self._streak_first = (loss_value, state.output_spread_ratio)
            self._streak_losses = []
            self._streak_spreads = []
        if state.by_spread and math.isfinite(state.output_spread_ratio):
            self._streak_spreads.append(state.output_spread_ratio)
        if loss_value is not None and math.isfinite(loss_value):
            self._streak_losses.append(loss_value)
        self._streak += 1
        self._streak_rows += rows
        assert self._streak_start is not None
        if (
            not self._alerted
            and self._streak >= self.confirm
            and self._streak_rows >= self.min_rows
            and step - self._streak_start >= MIN_SPAN
        ):
            if plateau or self._still_learning(loss_value, state):
                self.held += 1
                return
            self._alerted = True
            self.recovered_at = None
            self.alert = self.pending = Alert(self._streak_start, step, state)
            self.alerts += 1

    def take(self, cause: Callable[[], str] | None = None) -> Alert | None:
        """The confirmed alert not yet handled (once), with the top cause from ``cause`` when given; a
        failing ``cause`` leaves the alert without one."""
        alert, self.pending = self.pending, None
        if alert is None:
            return None
        if cause is not None:
            with contextlib.suppress(Exception):  # the alert goes out without a cause
                alert = Alert(alert.step, alert.fired_at, alert.state, cause().rstrip("."))
            self.alert = alert
        return alert

    def summary(self) -> dict[str, Any]:
        """What the live checks saw, for the report's metrics."""
        out: dict[str, Any] = {
            "every": self.every,
            "checks": self.checks,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 4),
        }
        if self.held:
            out["held_as_plateau"] = self.held
        if self.alert is not None:
            out.update(self.alert.as_dict())
            out["recovered_at"] = self.recovered_at
            out["alerts"] = self.alerts
        return out


def check_stop_on(stop_on: object, live: bool = True) -> StopOn:
    """``stop_on`` as given, after checking it is a known value and that the live checks it needs are on."""
    if stop_on not in (None, "collapsed"):
        raise ValueError(f"stop_on must be None or 'collapsed', not {stop_on!r}")
    if stop_on is not None and not live:
        raise ValueError("stop_on needs the live checks (live=True)")
    return stop_on


def _median(values: Sequence[float]) -> float:
    return sorted(values)[len(values) // 2]


def _one_target(target: np.ndarray) -> bool:
    """Every row of ``target`` is the same."""
    return bool((target == target[:1]).all())
