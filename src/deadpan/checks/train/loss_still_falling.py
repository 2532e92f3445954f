"""DP510 loss-still-falling."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.curves import (
    LAST_QUARTER_SHARE,
    FallingCurve,
    ShortRunFall,
    paced_by_learning_rate,
    still_falling,
)
from deadpan.checks.symptoms import symptom_evidence
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

STRENGTH = 0.6
#: Added in proportion to how much of the decrease the last quarter still holds (up to this much).
STRENGTH_BONUS = 0.15
#: Taken off when the learning rate sets the pace (:func:`~deadpan.checks.curves.paced_by_learning_rate`):
#: training longer would work, but raising the rate is the fix (DP402's finding ranks above).
STRENGTH_PACED_PENALTY = 0.2


@register
class LossStillFalling(Check):
    """Training stopped while the loss was still falling fast.

    What it detects:
        A training-loss curve whose last quarter still accounts for a large share (over 15%) of the whole
        decrease, with a slope that has not flattened, while the model still scores poorly. Not on data the
        learnability probe finds no signal in (DP102's bar): there the falling loss is the network
        memorising its samples, and training longer would not help. A whole run of fewer than 100 optimizer
        steps whose loss fell counts without the curve test: a few dozen noisy minibatch losses cannot show
        a trend, and no network is trained from scratch in so few steps. Ranked lower when the fall would
        need ten times the run or more at a learning rate 30x or more below the LR range test's: the
        learning rate sets the pace (DP402's finding).

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
        # The rule and its numbers are shared (deadpan.checks.curves): DP402 asks the same question.
        fall = still_falling(ev)
        if isinstance(fall, ShortRunFall):
            return self._few_steps(ev, fall)
        if fall is None:
            return None
        return self._report(ev, fall)

    def _few_steps(self, ev: Evidence, fall: ShortRunFall) -> Finding:
        """A run of fewer optimizer steps than ``curves.SHORT_RUN_STEPS`` (one epoch, full-batch training for
        a few epochs) whose loss fell: a network is not trained in so few steps, so the run was too short."""
        tr = ev.training
        assert tr is not None
        start, end = fall.start, fall.end
        run = float(max(tr.steps, 1))
        more = max(100.0, 10 * run)
        longer = (run + more) / run
        change = Change(
            "train_more_steps",
            what="steps",
            current=tr.steps,
            proposed=run + more,
            params={"more": more, "longer": longer},
        )
        return self.finding(
            ev,
            message=f"the whole training took only {tr.steps} optimizer steps and the loss fell "
            f"({start:.4g} -> {end:.4g}): a network is not trained in so few steps (one epoch, or full-batch "
            "training for a few epochs, does this).",
            change=change,
            evidence={"loss_start": start, "loss_end": end, "steps": tr.steps, **symptom_evidence(ev)},
            strength=STRENGTH,
            severity=Severity.WARNING,
        )

    def _report(self, ev: Evidence, fall: FallingCurve) -> Finding:
        """A curve still falling steeply: train longer, by the time constants the slopes give."""
        start, end, share, slope_last = fall.start, fall.end, fall.share, fall.slope_last
        flattening, run, quarter = fall.flattening, fall.run, fall.quarter
        more, longer = fall.steps_ahead, fall.longer
        paced = paced_by_learning_rate(ev, fall)
        change = Change(
            "train_longer",
            what="steps",
            current=run,
            proposed=run + more,
            params={"more": more, "longer": longer},
        )
        return self.finding(
            ev,
            message="the training loss was still falling when training stopped: the last quarter of the "
            f"run lowered it by {-slope_last * quarter:.4g}, {100 * share:.0f}% of the whole decrease "
            f"({start:.4g} -> {end:.4g}), and the slope has not flattened; the model stopped in the early, "
            "nearly input-independent stage.",
            change=change,
            evidence={
                "loss_start": start,
                "loss_end": end,
                "last_quarter_share": share,
                "slope_ratio_second_to_first_half": flattening,
                "slope_t_stat": fall.t_stat,
                "steps": run,
                "suggested_more_steps": round(more),
                "paced_by_learning_rate": paced,
                **symptom_evidence(ev),
            },
            strength=STRENGTH
            + STRENGTH_BONUS * min(1.0, (share - LAST_QUARTER_SHARE) / LAST_QUARTER_SHARE)
            - (STRENGTH_PACED_PENALTY if paced else 0.0),
            severity=Severity.WARNING,
        )
