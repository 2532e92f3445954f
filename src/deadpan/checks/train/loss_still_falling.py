"""DP510 loss-still-falling."""

from __future__ import annotations

import math

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import (
    collapsed,
    head,
    is_keras,
    loss_curve,
    output_probe,
    symptom_evidence,
    tail,
)
from deadpan.evidence import Evidence
from deadpan.findings import Finding, Severity

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
#: The downward slope over the last half of the curve is significant: at least this many standard errors
#: below zero (a one-sided t-test at about the 1% level for 10 points), so minibatch noise on a plateau does
#: not pass for a falling loss.
MIN_T_STAT = 3.0
#: Time constants still to train to remove ~95% of the remaining decrease (e^-3 = 5%).
TIME_CONSTANTS_AHEAD = 3.0
STRENGTH = 0.6
#: Added in proportion to how much of the decrease the last quarter still holds (up to this much).
STRENGTH_BONUS = 0.15


def _no_signal(ev: Evidence) -> bool:
    """The learnability probe finds no signal in the data, by DP102's bar (including its small-sample noise
    allowance)."""
    from deadpan.checks.data.no_learnable_signal import MIN_SAMPLES, NO_SIGNAL_GAP

    lp = ev.probes.learnability
    if lp is None or lp.n_samples < MIN_SAMPLES:
        return False
    return lp.signal_gap() < max(NO_SIGNAL_GAP, lp.noise_gap())


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


@register
class LossStillFalling(Check):
    """Training stopped while the loss was still falling fast.

    What it detects:
        A training-loss curve whose last quarter still accounts for a large share (over 15%) of the whole
        decrease, with a slope that has not flattened, while the model still scores poorly. Not on data the
        learnability probe finds no signal in (DP102's bar): there the falling loss is the network
        memorising its samples, and training longer would not help. A whole run of fewer than 100 optimizer
        steps whose loss fell counts without the curve test: a few dozen noisy minibatch losses cannot show
        a trend, and no network is trained from scratch in so few steps.

    Why it makes the output constant:
        Networks learn the easy, input-independent part first: the class prior or the target mean, a
        constant output. The input-dependent part comes later; a run stopped while the loss is still falling
        steeply ends in that early, nearly constant state.

    Fix:
        Train for more steps or epochs (deadpan estimates how many from the curve), or raise the learning
        rate if the budget is fixed.
    """

    code = "DP510"
    name = "loss-still-falling"
    category = "train.too_short"
    requires = ("training",)

    def judge(self, ev: Evidence) -> Finding | None:
        tr = ev.training
        assert tr is not None
        if tr.first_nonfinite_loss_step is not None:
            return None
        probe = output_probe(ev)
        if probe is None or not (collapsed(probe) or probe.normalized_score < UNDERPERFORM_SCORE):
            return None
        if _no_signal(ev):
            return None
        steps, loss = loss_curve(tr)
        if len(loss) < MIN_POINTS or 0 < tr.steps < SHORT_RUN_STEPS:
            return self._few_steps(ev, loss)
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
        return self._report(ev, start, end, share, flattening, t_stat, run, half / 2, slope_last, half)

    def _few_steps(self, ev: Evidence, loss: np.ndarray) -> Finding | None:
        """A run of fewer optimizer steps than ``SHORT_RUN_STEPS`` (one epoch, full-batch training for a few
        epochs) whose loss fell: a network is not trained in so few steps, so the run was too short."""
        tr = ev.training
        assert tr is not None
        if len(loss) < 2 or tr.steps >= SHORT_RUN_STEPS:
            return None
        # Over a short curve the ends are single noisy minibatch losses: compare the first and last tenth.
        start, end = (float(loss[0]), float(loss[-1])) if len(loss) < MIN_POINTS else (head(loss), tail(loss))
        if start - end < MIN_TOTAL_DROP * max(abs(start), 1e-12):
            return None
        run = float(max(tr.steps, 1))
        more = max(100.0, 10 * run)
        longer = (run + more) / run
        what = "batches, i.e. more `epochs` or a smaller `batch_size`" if is_keras(ev) else "optimizer steps"
        return self.finding(
            message=f"the whole training took only {tr.steps} optimizer steps and the loss fell "
            f"({start:.4g} -> {end:.4g}): a network is not trained in so few steps (one epoch, or full-batch "
            "training for a few epochs, does this).",
            fix=f"train for many more steps: about {more:,.0f} more {what} (~{longer:.0f}x); with the whole "
            "data set in one batch, use mini-batches (e.g. 32-256 samples) so each epoch makes many steps",
            evidence={"loss_start": start, "loss_end": end, "steps": tr.steps, **symptom_evidence(ev)},
            strength=STRENGTH,
            severity=Severity.WARNING,
        )

    def _report(
        self,
        ev: Evidence,
        start: float,
        end: float,
        share: float,
        flattening: float,
        t_stat: float,
        run: float,
        quarter: float,
        slope_last: float,
        half: float,
    ) -> Finding:
        if flattening < 1:
            tau = half / math.log(1 / flattening)
            more = TIME_CONSTANTS_AHEAD * tau
        else:  # the fall is not slowing down yet: at least double the run
            more = run
        more = float(max(more, 0.5 * run))
        longer = (run + more) / max(run, 1.0)
        if is_keras(ev):
            fix = (
                f"train longer: about {more:,.0f} more steps (~{longer:.1f}x the current {run:,.0f} "
                f"batches), i.e. ~{longer:.1f}x the `epochs` in `model.fit(..., epochs=...)`; if the budget "
                "is fixed, raise the learning rate instead"
            )
        else:
            fix = (
                f"train longer: about {more:,.0f} more optimizer steps (~{longer:.1f}x the current "
                f"{run:,.0f}), e.g. raise the number of epochs in `for epoch in range(num_epochs):` by "
                f"~{longer:.1f}x; if the budget is fixed, raise the learning rate instead"
            )
        return self.finding(
            message="the training loss was still falling when training stopped: the last quarter of the "
            f"run lowered it by {-slope_last * quarter:.4g}, {100 * share:.0f}% of the whole decrease "
            f"({start:.4g} -> {end:.4g}), and the slope has not flattened; the model stopped in the early, "
            "nearly input-independent stage.",
            fix=fix,
            evidence={
                "loss_start": start,
                "loss_end": end,
                "last_quarter_share": share,
                "slope_ratio_second_to_first_half": flattening,
                "slope_t_stat": t_stat,
                "steps": run,
                "suggested_more_steps": round(more),
                **symptom_evidence(ev),
            },
            strength=STRENGTH + STRENGTH_BONUS * min(1.0, (share - LAST_QUARTER_SHARE) / LAST_QUARTER_SHARE),
            severity=Severity.WARNING,
        )
