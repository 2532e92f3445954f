"""Shared loss-curve trend measurements for the checks. Not a check.

:mod:`deadpan.checks.symptoms` reads the curve itself (:func:`~deadpan.checks.symptoms.loss_curve`,
:func:`~deadpan.checks.symptoms.head`, :func:`~deadpan.checks.symptoms.tail`); this module, beside it, holds
what is measured on the curve's trend: whether the training loss was still falling when training stopped, by
DP510's rule (:func:`still_falling`). DP510 (loss-still-falling) builds its finding from the numbers it
returns; DP402 (weights-barely-move) only asks whether the loss was still falling. It is a module of its own
because :mod:`deadpan.checks.symptoms` would otherwise pass the 400-line limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from deadpan.checks.symptoms import (
    finds_no_signal,
    head,
    loss_curve,
    nearly_constant,
    output_probe,
    tail,
    user_lr,
)
from deadpan.evidence import Evidence, TrainingStats

#: Fewer recorded loss points than this cannot show a trend per quarter.
MIN_POINTS = 8
#: A whole training of fewer optimizer steps than this is short whatever its curve looks like: a network
#: trained from scratch needs hundreds of steps (every base task of deadpan's fault zoo takes 230 or more),
#: and over a few dozen noisy minibatch losses "still falling" and "flattened" cannot be told apart.
SHORT_RUN_STEPS = 100
#: The model underperforms: normalized score (0 = chance, 1 = perfect) below this.
UNDERPERFORM_SCORE = 0.75
#: The loss fell by at least this fraction of its starting value overall: training does something (the
#: t-test below already makes sure the fall is not noise; cross-entropy leaving its ln C plateau falls
#: slowly at first, so this is kept small).
MIN_TOTAL_DROP = 0.02
#: The last quarter of the run (at the second half's slope) accounts for more than this share of the whole
#: decrease. For an exponential decay this holds while a good part of the reachable decrease is still
#: ahead (a healthy curve ends around 4 time constants, share ~2%).
LAST_QUARTER_SHARE = 0.15
#: The slope over the second half is at least this fraction of the slope over the first: not flattened.
#: For an exponential decay exp(-t/tau) the ratio is exp(-T/(2 tau)); 0.25 means the run is shorter than
#: about 2.8 time constants, i.e. more than 6% of the reachable decrease is still ahead.
NOT_FLATTENED = 0.25
#: Time constants still to train to remove ~95% of the remaining decrease (e^-3 = 5%).
TIME_CONSTANTS_AHEAD = 3.0
#: A learning rate this many times below the LR range test's steepest descent is far below the useful range
#: (Smith 2017) ...
FAR_BELOW_RANGE = 30.0
#: ... and a fall that asks for this many times the run to finish is paced by the learning rate, not cut
#: short: a run stopped early at a sound rate needs a few more epochs, not ten times as many.
LONG_WAY = 10.0
#: The downward slope over the last half of the curve is significant: at least this many standard errors
#: below zero (a one-sided t-test at about the 1% level for 10 points), so minibatch noise on a plateau does
#: not pass for a falling loss.
MIN_T_STAT = 3.0


@dataclass(frozen=True)
class ShortRunFall:
    """A whole run of fewer than ``SHORT_RUN_STEPS`` optimizer steps whose loss fell (by at least
    ``MIN_TOTAL_DROP`` of its start): too short whatever its curve looks like."""

    #: The loss at the start and at the end (single points on fewer than ``MIN_POINTS``, else the medians of
    #: the first tenth and the last fifth).
    start: float
    end: float


@dataclass(frozen=True)
class FallingCurve:
    """A loss curve still falling steeply when training stopped."""

    #: The loss at the start (median of the first tenth) and at the end (the second half's fitted line at
    #: the last step).
    start: float
    end: float
    #: The last quarter's share of the whole decrease, at the second half's slope.
    share: float
    #: Slope over the second half / slope over the first (> 1 while the fall is still speeding up).
    flattening: float
    #: The second half's slope in standard errors.
    t_stat: float
    #: Optimizer steps of the run (the curve's span when the count is unknown).
    run: float
    #: Half the curve's span, in steps; and the second half's slope.
    half: float
    slope_last: float

    @property
    def quarter(self) -> float:
        """A quarter of the curve's span, in steps."""
        return self.half / 2

    @property
    def steps_ahead(self) -> float:
        """Steps still to train to remove ~95% of the remaining decrease: ``TIME_CONSTANTS_AHEAD`` time
        constants of the fall the two halves' slopes give; at least the run again while the fall is not
        slowing down, and never under half the run."""
        if self.flattening < 1:
            tau = self.half / math.log(1 / self.flattening)
            more = TIME_CONSTANTS_AHEAD * tau
        else:
            more = self.run
        return float(max(more, 0.5 * self.run))

    @property
    def longer(self) -> float:
        """The whole training the fall asks for, as a multiple of the run."""
        return (self.run + self.steps_ahead) / max(self.run, 1.0)


#: Losses that are never below 0 for the inputs and targets they are meant for (a negative value means
#: their input or target is not of that kind: raw scores into ``nll_loss``, targets outside [0, 1]).
NONNEGATIVE_LOSSES = frozenset(
    {
        "cross_entropy",
        "cross_entropy_probs",
        "nll_loss",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "mse_loss",
        "l1_loss",
        "smooth_l1_loss",
        "huber_loss",
        "soft_margin_loss",
        "multi_margin_loss",
        "multilabel_soft_margin_loss",
        "multilabel_margin_loss",
        "hinge_embedding_loss",
        "margin_ranking_loss",
        "triplet_margin_loss",
        "cosine_embedding_loss",
    }
)
#: Below 0 by more than this share of the starting loss's size (at least this much): not rounding.
FLOOR_TOLERANCE = 1e-3


def below_its_floor(ev: Evidence, loss: np.ndarray) -> bool:
    """The recorded training loss went below 0 while its function is never negative for valid inputs: its
    fall is the loss escaping its bound, not the model learning."""
    if ev.loss is None or ev.loss.function not in NONNEGATIVE_LOSSES or not len(loss):
        return False
    return float(loss.min()) < -FLOOR_TOLERANCE * max(1.0, abs(float(loss[0])))


def still_falling(ev: Evidence) -> FallingCurve | ShortRunFall | None:
    """The training loss was still falling when training stopped, by DP510's rule: the measured numbers, or
    None when it was not.

    The rule holds only for a finite loss that stays above its own floor (:func:`below_its_floor`), a model
    whose probed output is nearly constant or scores under ``UNDERPERFORM_SCORE``, and data the learnability
    probe finds signal in (on data without signal a falling loss is the network memorising its samples). A
    run of fewer than ``SHORT_RUN_STEPS`` optimizer steps (or a curve of fewer than ``MIN_POINTS`` points)
    whose loss fell is a :class:`ShortRunFall`; otherwise the curve's second half must fall significantly,
    not flattened, and its last quarter hold more than ``LAST_QUARTER_SHARE`` of the whole decrease
    (:class:`FallingCurve`)."""
    tr = ev.training
    assert tr is not None
    if tr.first_nonfinite_loss_step is not None:
        return None
    probe = output_probe(ev)
    if probe is None or not (nearly_constant(probe) or probe.normalized_score < UNDERPERFORM_SCORE):
        return None
    if finds_no_signal(ev.probes.learnability):
        return None
    steps, loss = loss_curve(tr)
    if below_its_floor(ev, loss):
        return None
    if len(loss) < MIN_POINTS or 0 < tr.steps < SHORT_RUN_STEPS:
        return _short_run_fall(tr, loss)
    return _falling_curve(tr, steps, loss)


#: Recorded losses of a short run that, each lower than the one before, show a fall however small.
MONOTONE_POINTS = 5


def _short_run_fall(tr: TrainingStats, loss: np.ndarray) -> ShortRunFall | None:
    """A run of fewer optimizer steps than ``SHORT_RUN_STEPS`` (one epoch, full-batch training for a few
    epochs) whose loss fell: a network is not trained in so few steps, so the run was too short."""
    if len(loss) < 2 or tr.steps >= SHORT_RUN_STEPS:
        return None
    # Over a short curve the ends are single noisy minibatch losses: compare the first and last tenth.
    start, end = (float(loss[0]), float(loss[-1])) if len(loss) < MIN_POINTS else (head(loss), tail(loss))
    # A loss lower at every recorded step is falling however little it fell: minibatch noise orders
    # MONOTONE_POINTS losses that way once in 120 (1/5!) runs, and a run this short has not reached its floor.
    monotone = len(loss) >= MONOTONE_POINTS and bool(np.all(np.diff(loss) < 0))
    if start - end < MIN_TOTAL_DROP * max(abs(start), 1e-12) and not monotone:
        return None
    return ShortRunFall(start=start, end=end)


def _falling_curve(tr: TrainingStats, steps: np.ndarray, loss: np.ndarray) -> FallingCurve | None:
    """The curve test on a run long enough to show a trend."""
    # Halves, not quarters: minibatch noise makes a slope over a quarter of a short run meaningless.
    half = (steps[-1] - steps[0]) / 2
    if half <= 0:
        return None
    last = steps >= steps[-1] - half
    first = ~last
    if last.sum() < 3 or first.sum() < 3:
        return None
    slope_last, slope_first = _slope(steps[last], loss[last]), _slope(steps[first], loss[first])
    if slope_last >= 0:
        return None
    t_stat = _t_stat(steps[last], loss[last])
    if t_stat > -MIN_T_STAT:
        return None
    start = head(loss)
    end = float(np.polyval(np.polyfit(steps[last], loss[last], 1), steps[-1]))
    total_drop = start - end
    if total_drop < MIN_TOTAL_DROP * max(abs(start), 1e-12):
        return None
    quarter = half / 2
    share = float(-slope_last * quarter / total_drop)
    # Slope ratio second half / first half; > 1 while the fall is still speeding up (plateau escape).
    flattening = slope_last / slope_first if slope_first < 0 else math.inf
    if share <= LAST_QUARTER_SHARE or flattening < NOT_FLATTENED:
        return None
    run = float(tr.steps) if tr.steps > 0 else float(steps[-1] - steps[0])
    return FallingCurve(
        start=start,
        end=end,
        share=share,
        flattening=flattening,
        t_stat=t_stat,
        run=run,
        half=half,
        slope_last=slope_last,
    )


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(x, y, 1)[0])


def _t_stat(x: np.ndarray, y: np.ndarray) -> float:
    """Slope of a least-squares line divided by its standard error (-inf for a noiseless fall)."""
    if len(x) < 3:
        return 0.0
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    sxx = float(np.sum((x - x.mean()) ** 2))
    se = float(np.sqrt(np.sum(residual**2) / (len(x) - 2) / sxx)) if sxx > 0 else math.inf
    if se == 0:
        return -math.inf if slope < 0 else (math.inf if slope > 0 else 0.0)
    return float(slope / se)


def far_below_range(ev: Evidence) -> bool:
    """The user's learning rate is ``FAR_BELOW_RANGE`` times or more below the LR range test's steepest
    descent."""
    lr = user_lr(ev)
    rr = ev.probes.lr_range
    suggested = rr.suggested_lr if rr is not None else None
    return suggested is not None and lr is not None and lr > 0 and suggested >= FAR_BELOW_RANGE * lr


def paced_by_learning_rate(ev: Evidence, fall: FallingCurve | ShortRunFall | None) -> bool:
    """A loss still falling that asks for ``LONG_WAY`` times the run or more, at a learning rate far below
    the range test's: raising the rate, not training ten times longer, is the fix (DP402 names it; DP510
    ranks itself below). An adaptive optimizer's steps stay a healthy share of the weights however small its
    rate, so the step size alone cannot tell this; the way still to go can."""
    return isinstance(fall, FallingCurve) and fall.longer >= LONG_WAY and far_below_range(ev)
