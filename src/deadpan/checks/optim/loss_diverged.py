"""DP401 loss-diverged."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import (
    head,
    loss_curve,
    misbehaving,
    optimizer_name,
    symptom_evidence,
    tail,
    user_lr,
)
from deadpan.evidence import Evidence, LRRangeProbe, TrainingStats
from deadpan.findings import Change, Finding

#: The loss over the last 20% of the curve (median) ended this many times above its first 20% (median), and
#: above every value in that first 20% (so one low early minibatch does not make a flat curve "rise").
ROSE_FACTOR = 2.0
#: Fraction of the curve that is its start / its end.
TAIL_FRACTION = 0.2
#: Oscillation: in the second half of the curve at least ``OSCILLATION_SHARE`` of the points are back above
#: the starting loss and as many are below ``OSCILLATION_LOW`` times it. The loss had learned something and
#: keeps being thrown back to where it began: steps overshoot. Scale- and sampling-independent, and minibatch
#: noise on a falling (or flat) curve does not reach both levels.
OSCILLATION_LOW = 0.5
OSCILLATION_SHARE = 0.3
#: Fewest points on the curve for the oscillation and relapse measures (five in its second half).
MIN_OSCILLATION_POINTS = 10
#: Explosion: two recorded losses in a row above this multiple of the first one (the untrained model's). The
#: LR range test's own divergence rule (fast.ai's lr_find stops at 4x); two in a row, as the range test
#: does, so one odd batch does not count. Healthy training never goes back far above the untrained loss,
#: while steps that are too large blow it up within the first steps and may then settle on a constant
#: answer (dead ReLUs, the class prior), so the end of the curve looks calm.
SPIKE_FACTOR = 4.0
#: Relapse: the loss fell, then climbed back to at least ``ROSE_FACTOR`` times the lowest it had reached
#: and gave back at least ``RELAPSE_SHARE`` of what it had gained since the start (windows of
#: ``RELAPSE_WINDOW`` of the curve, medians, so minibatch noise does not count). Training thrown out of the
#: minimum it found: steps, or momentum that multiplies them, too large to stay there.
RELAPSE_SHARE = 0.5
RELAPSE_WINDOW = 0.1
#: Smith (2017) LR range test: the loss explodes from ``diverge_lr``; the short test lags, so a learning rate
#: within this factor of it is already unstable in a full training run.
DIVERGE_FACTOR = 3.0
#: Update-to-weight norm ratio per step: about 1e-3 is healthy (Karpathy, CS231n), 1e-1 rewrites the
#: weights every few steps.
HIGH_UPDATE_RATIO = 1e-1
#: The range test suggests at least this many times the user's rate: large relative updates then come from
#: weights near zero (a zero initialisation growing), not from a rate too high.
RANGE_SAYS_RAISE = 10.0
#: The user's learning rate is at least this many times the LR range test's suggestion. fast.ai's suggestion
#: is a tenth of the learning rate at the loss minimum, so this is 3x past the minimum, where the range
#: test's loss already climbs (the mirror of DP402's factor for a learning rate too low).
ABOVE_SUGGESTED_FACTOR = 30.0
#: SGD momentum at or above this multiplies each step by up to 1 / (1 - momentum) >= 100 (heavy-ball
#: steady state); 0.9 is the usual value. Named in the fix only: the loss curve is the evidence.
HIGH_MOMENTUM = 0.99
USUAL_MOMENTUM = 0.9
#: Strength of each signal; independent signals are combined as a noisy-or, capped at ``MAX_STRENGTH``.
STRENGTH_NONFINITE = 0.8
STRENGTH_NONFINITE_DATA = 0.4  # the inputs or targets were non-finite first: likely a data cause instead
STRENGTH_ROSE = 0.7
STRENGTH_OSCILLATING = 0.55
STRENGTH_SPIKED = 0.7
STRENGTH_RELAPSED = 0.55
#: Corroboration only (never fires alone): the short range test on 32-row batches is noisy, and on a task
#: whose loss cannot fall (shuffled labels) its "steepest descent" is noise and its suggestion can be tiny.
STRENGTH_ABOVE_SUGGESTED = 0.45
STRENGTH_ABOVE_DIVERGE_LR = 0.6
STRENGTH_HIGH_UPDATES = 0.6
MAX_STRENGTH = 0.95
#: Suggested learning rate when the LR range test gave none: ten times lower.
FALLBACK_LR_DIVISOR = 10.0


@dataclass
class _Signals:
    """What points at a learning rate too high so far: each signal's strength, the reasons in words (in the
    order found) and the evidence."""

    strengths: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    evidence: dict[str, object] = field(default_factory=dict)

    def add(self, name: str, strength: float, reason: str) -> None:
        self.strengths[name] = strength
        self.reasons.append(reason)


def _nonfinite(ev: Evidence, tr: TrainingStats, found: _Signals) -> None:
    """The loss went NaN/inf (weaker when the inputs or targets were non-finite first)."""
    step = tr.first_nonfinite_loss_step
    if step is None:
        return
    bad_data = ev.data is not None and any(
        s is not None and s <= (step or 0)
        for s in (ev.data.nonfinite_input_step, ev.data.nonfinite_target_step)
    )
    after = " (after non-finite inputs or targets, which may be the cause instead)" if bad_data else ""
    found.add(
        "nonfinite",
        STRENGTH_NONFINITE_DATA if bad_data else STRENGTH_NONFINITE,
        f"the loss became non-finite at step {step}" + after,
    )
    found.evidence["first_nonfinite_loss_step"] = step


def _rose(loss: np.ndarray, found: _Signals) -> float:
    """The loss ended well above where it started, or jumped at once and never came back; returns its
    start (the median of the first fifth)."""
    start, end = head(loss, TAIL_FRACTION), tail(loss, TAIL_FRACTION)
    first = loss[: max(1, int(len(loss) * TAIL_FRACTION))]
    found.evidence["loss_start"], found.evidence["loss_end"] = start, end
    if start > 0 and end > ROSE_FACTOR * start and end > float(first.max()):
        found.add("rose", STRENGTH_ROSE, f"the loss rose from {start:.4g} to {end:.4g}")
    elif loss[0] > 0 and float(loss[len(loss) // 2 :].min()) > ROSE_FACTOR * float(loss[0]):
        # It jumped within the first steps and never came back: the first fifth is already up,
        # so the comparison above misses it (a clipped loss stuck at its ceiling does this).
        found.evidence["loss_first_step"] = float(loss[0])
        found.add(
            "rose",
            STRENGTH_ROSE,
            f"the loss jumped from {float(loss[0]):.4g} at the first step to {end:.4g} and never came back "
            "down",
        )
    return start


def _relapsed(loss: np.ndarray, found: _Signals) -> None:
    """The loss fell, then climbed back to twice the lowest it reached (medians over windows)."""
    window = max(1, int(len(loss) * RELAPSE_WINDOW))
    medians = [
        float(np.median(loss[i : i + window])) for i in range(0, len(loss) - window + 1, max(1, window // 2))
    ]
    begin, best, last = medians[0], min(medians), float(np.median(loss[-window:]))
    if (
        best > 0
        and begin > best
        and last >= ROSE_FACTOR * best
        and last - best >= RELAPSE_SHARE * (begin - best)
    ):
        found.evidence["loss_lowest"] = best
        found.add(
            "relapsed",
            STRENGTH_RELAPSED,
            f"the loss fell from {begin:.4g} to {best:.4g}, then climbed back to {last:.4g}",
        )


def _oscillating(loss: np.ndarray, start: float, found: _Signals) -> None:
    """In the second half the loss keeps jumping between well below and above where it started."""
    second = loss[len(loss) // 2 :]
    high = float(np.mean(second > start))
    low = float(np.mean(second < OSCILLATION_LOW * start))
    found.evidence["share_back_above_start"], found.evidence["share_below_half_start"] = high, low
    if high >= OSCILLATION_SHARE and low >= OSCILLATION_SHARE:
        found.add(
            "oscillating",
            STRENGTH_OSCILLATING,
            "in the second half of training it keeps jumping between below "
            f"{OSCILLATION_LOW:g}x and above its starting value {start:.4g} ({100 * high:.0f}% "
            "of the points above it)",
        )


def _curve(loss_steps: np.ndarray, loss: np.ndarray, found: _Signals) -> None:
    """The signals the loss curve gives."""
    if len(loss) >= 5:
        start = _rose(loss, found)
        if "rose" not in found.strengths and len(loss) >= MIN_OSCILLATION_POINTS:
            _relapsed(loss, found)
        if start > 0 and len(loss) >= MIN_OSCILLATION_POINTS:
            _oscillating(loss, start, found)
    if "rose" in found.strengths or not (len(loss) >= 3 and loss[0] > 0):
        return
    # Explosion: two recorded losses in a row far above the first one.
    pairs = np.minimum(loss[:-1], loss[1:])
    peak = int(np.argmax(pairs))
    if pairs[peak] > SPIKE_FACTOR * float(loss[0]):
        initial, top = float(loss[0]), float(pairs[peak])
        found.evidence["loss_first_step"], found.evidence["loss_peak"] = initial, top
        settled = f" before it settled at {float(tail(loss)):.4g}" if peak < len(loss) // 2 else ""
        found.add(
            "spiked",
            STRENGTH_SPIKED,
            f"the loss exploded from {initial:.4g} at the first step to {top:.4g} around step "
            f"{int(loss_steps[peak])}" + settled,
        )


def _range_test(lr: float | None, rr: LRRangeProbe | None, found: _Signals) -> None:
    """The learning rate against the LR range test: near where its loss exploded, or far past its
    suggestion."""
    found.evidence["lr"] = lr
    if lr is None or rr is None:
        return
    if rr.diverge_lr is not None and lr >= rr.diverge_lr / DIVERGE_FACTOR:
        found.add(
            "above_diverge_lr",
            STRENGTH_ABOVE_DIVERGE_LR,
            f"the learning rate {lr:.3g} is within {DIVERGE_FACTOR:g}x of {rr.diverge_lr:.3g}, where "
            "the LR range test's loss exploded",
        )
        found.evidence["diverge_lr"] = rr.diverge_lr
    if rr.suggested_lr is not None and lr >= ABOVE_SUGGESTED_FACTOR * rr.suggested_lr:
        found.add(
            "above_suggested_lr",
            STRENGTH_ABOVE_SUGGESTED,
            f"the learning rate {lr:.3g} is {lr / rr.suggested_lr:.0f}x the LR range test's suggestion "
            f"{rr.suggested_lr:.3g}",
        )
        found.evidence["suggested_lr"] = rr.suggested_lr


def _updates(tr: TrainingStats, lr: float | None, rr: LRRangeProbe | None, found: _Signals) -> None:
    """Steps that change the weights by more than a tenth of their norm, unless the range test says the rate
    is far too low: weights that start at (or near) zero grow by a large share of their norm at any rate."""
    if lr is not None and rr is not None and (rr.suggested_lr or 0.0) >= RANGE_SAYS_RAISE * lr:
        return
    ratios = np.asarray(tr.update_ratio, dtype=float)
    ratios = ratios[np.isfinite(ratios)]
    if not len(ratios):
        return
    median = float(np.median(ratios))
    found.evidence["median_update_ratio"] = median
    if median > HIGH_UPDATE_RATIO:
        found.add(
            "high_updates",
            STRENGTH_HIGH_UPDATES,
            f"each step changes the weights by {median:.2g} of their norm (about 1e-3 is healthy)",
        )


def _change(ev: Evidence, tr: TrainingStats, lr: float | None, found: _Signals) -> Change:
    """Lower the momentum when it is 0.99 or more (heavy-ball momentum m multiplies the step by up to
    1 / (1 - m)), else the learning rate: to the range test's suggestion, ten times lower, or 1e-3."""
    opt = tr.optimizer
    momentum = opt.momentum if opt is not None and "adam" not in opt.name.lower() else 0.0
    if momentum >= HIGH_MOMENTUM:
        found.reasons.append(
            f"momentum {momentum:g} multiplies each step by up to {1 / max(1 - momentum, 1e-12):.0f}x"
        )
        params: dict[str, object] = {"optimizer": optimizer_name(ev), "lr": lr}
        return Change(
            "lower_momentum", what="momentum", current=momentum, proposed=USUAL_MOMENTUM, params=params
        )
    rr = ev.probes.lr_range
    suggested = rr.suggested_lr if rr is not None else None
    if suggested is not None and (lr is None or suggested < lr):
        new_lr, basis = suggested, "range_test"
    elif lr is not None:
        new_lr, basis = lr / FALLBACK_LR_DIVISOR, "factor"
    else:
        new_lr, basis = 1e-3, "default"
    params = {"optimizer": optimizer_name(ev), "basis": basis, "factor": FALLBACK_LR_DIVISOR}
    return Change("lower_learning_rate", what="learning_rate", current=lr, proposed=new_lr, params=params)


@register
class LossDiverged(Check):
    """The learning rate is too high: the loss diverges, goes non-finite or jumps around.

    What it detects:
        A training loss that becomes NaN/inf, ends well above where it started, explodes to more than 4x
        its first value (even when it later settles, often on a constant answer), falls and then climbs back
        to twice the lowest it reached, or oscillates wildly; a learning rate at or near the one where the LR
        range test's loss exploded (or far past its suggestion, as corroboration); or updates that change
        the weights by more than a tenth of their norm per step (about a thousandth is healthy). It fires
        only when the loss went non-finite or the model misbehaves.

    Why it makes the output constant:
        Steps that are too large overshoot every minimum: the weights blow up, ReLU units die or sigmoid/
        softmax units saturate, and the model falls into the one solution that large steps cannot leave, a
        constant output (often the majority class or the target mean), or produces NaN.

    Fix:
        Lower the learning rate (to the LR range test's suggestion, or 10x lower), e.g.
        ``torch.optim.Adam(model.parameters(), lr=1e-3)``, and clip the gradients with
        ``torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)`` between ``loss.backward()`` and
        ``optimizer.step()``. With SGD momentum of 0.99 or more, lower the momentum to 0.9 first.
    """

    code = "DP401"
    name = "loss-diverged"
    category = "optim.lr_too_high"
    requires = ("training",)

    def judge(self, ev: Evidence) -> Finding | None:
        tr = ev.training
        assert tr is not None
        found = _Signals()
        _nonfinite(ev, tr, found)
        _curve(*loss_curve(tr), found)
        lr = user_lr(ev)
        _range_test(lr, ev.probes.lr_range, found)
        _updates(tr, lr, ev.probes.lr_range, found)
        signals = found.strengths
        if not signals or not (tr.first_nonfinite_loss_step is not None or misbehaving(ev)):
            return None
        if set(signals) == {"above_suggested_lr"}:
            return None  # corroboration only: a noisy range test on a broken task suggests tiny rates
        strength = 1.0 - float(np.prod([1.0 - s for s in signals.values()]))
        found.evidence.update(symptom_evidence(ev))
        found.evidence["signals"] = sorted(signals)
        change = _change(ev, tr, lr, found)
        return self.finding(
            ev,
            message="the learning rate looks too high: " + "; ".join(found.reasons) + ".",
            change=change,
            evidence=found.evidence,
            strength=min(MAX_STRENGTH, strength),
        )
