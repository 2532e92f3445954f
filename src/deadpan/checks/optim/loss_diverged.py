"""DP401 loss-diverged."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import (
    head,
    is_keras,
    keras_compile_call,
    loss_curve,
    misbehaving,
    optimizer_call,
    symptom_evidence,
    tail,
    user_lr,
)
from deadpan.evidence import Evidence
from deadpan.findings import Finding

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
#: Fewest points on the curve for the oscillation measure (five in its second half).
MIN_OSCILLATION_POINTS = 10
#: Smith (2017) LR range test: the loss explodes from ``diverge_lr``; the short test lags, so a learning rate
#: within this factor of it is already unstable in a full training run.
DIVERGE_FACTOR = 3.0
#: Update-to-weight norm ratio per step: about 1e-3 is healthy (Karpathy, CS231n), 1e-1 rewrites the
#: weights every few steps.
HIGH_UPDATE_RATIO = 1e-1
#: Strength of each signal; independent signals are combined as a noisy-or, capped at ``MAX_STRENGTH``.
STRENGTH_NONFINITE = 0.8
STRENGTH_NONFINITE_DATA = 0.4  # the inputs or targets were non-finite first: likely a data cause instead
STRENGTH_ROSE = 0.7
STRENGTH_OSCILLATING = 0.55
STRENGTH_ABOVE_DIVERGE_LR = 0.6
STRENGTH_HIGH_UPDATES = 0.6
MAX_STRENGTH = 0.95
#: Suggested learning rate when the LR range test gave none: ten times lower.
FALLBACK_LR_DIVISOR = 10.0


@register
class LossDiverged(Check):
    """The learning rate is too high: the loss diverges, goes non-finite or jumps around.

    What it detects:
        A training loss that becomes NaN/inf, ends well above where it started, or oscillates wildly; a
        learning rate at or near the one where the LR range test's loss exploded; or updates that change the
        weights by more than a tenth of their norm per step (about a thousandth is healthy). It fires only
        when the loss went non-finite or the model misbehaves.

    Why it makes the output constant:
        Steps that are too large overshoot every minimum: the weights blow up, ReLU units die or sigmoid/
        softmax units saturate, and the model falls into the one solution that large steps cannot leave, a
        constant output (often the majority class or the target mean), or produces NaN.

    Fix:
        Lower the learning rate (to the LR range test's suggestion, or 10x lower), e.g.
        ``torch.optim.Adam(model.parameters(), lr=1e-3)``, and clip the gradients with
        ``torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)`` between ``loss.backward()`` and
        ``optimizer.step()``.
    """

    code = "DP401"
    name = "loss-diverged"
    category = "optim.lr_too_high"
    requires = ("training",)

    def judge(self, ev: Evidence) -> Finding | None:
        tr = ev.training
        assert tr is not None
        signals: dict[str, float] = {}
        reasons: list[str] = []
        evidence: dict[str, object] = {}

        nonfinite = tr.first_nonfinite_loss_step is not None
        if nonfinite:
            bad_data = ev.data is not None and any(
                s is not None and s <= (tr.first_nonfinite_loss_step or 0)
                for s in (ev.data.nonfinite_input_step, ev.data.nonfinite_target_step)
            )
            signals["nonfinite"] = STRENGTH_NONFINITE_DATA if bad_data else STRENGTH_NONFINITE
            reasons.append(
                f"the loss became non-finite at step {tr.first_nonfinite_loss_step}"
                + (
                    " (after non-finite inputs or targets, which may be the cause instead)"
                    if bad_data
                    else ""
                )
            )
            evidence["first_nonfinite_loss_step"] = tr.first_nonfinite_loss_step

        _, loss = loss_curve(tr)
        if len(loss) >= 5:
            start, end = head(loss, TAIL_FRACTION), tail(loss, TAIL_FRACTION)
            first = loss[: max(1, int(len(loss) * TAIL_FRACTION))]
            evidence["loss_start"], evidence["loss_end"] = start, end
            if start > 0 and end > ROSE_FACTOR * start and end > float(first.max()):
                signals["rose"] = STRENGTH_ROSE
                reasons.append(f"the loss rose from {start:.4g} to {end:.4g}")
            elif loss[0] > 0 and float(loss[len(loss) // 2 :].min()) > ROSE_FACTOR * float(loss[0]):
                # It jumped within the first steps and never came back: the first fifth is already up,
                # so the comparison above misses it (a clipped loss stuck at its ceiling does this).
                signals["rose"] = STRENGTH_ROSE
                evidence["loss_first_step"] = float(loss[0])
                reasons.append(
                    f"the loss jumped from {float(loss[0]):.4g} at the first step to {end:.4g} and never "
                    "came back down"
                )
            second = loss[len(loss) // 2 :]
            if start > 0 and len(loss) >= MIN_OSCILLATION_POINTS:
                high = float(np.mean(second > start))
                low = float(np.mean(second < OSCILLATION_LOW * start))
                evidence["share_back_above_start"], evidence["share_below_half_start"] = high, low
                if high >= OSCILLATION_SHARE and low >= OSCILLATION_SHARE:
                    signals["oscillating"] = STRENGTH_OSCILLATING
                    reasons.append(
                        "in the second half of training it keeps jumping between below "
                        f"{OSCILLATION_LOW:g}x and above its starting value {start:.4g} ({100 * high:.0f}% "
                        "of the points above it)"
                    )

        lr = user_lr(ev)
        rr = ev.probes.lr_range
        evidence["lr"] = lr
        if (
            lr is not None
            and rr is not None
            and rr.diverge_lr is not None
            and lr >= rr.diverge_lr / DIVERGE_FACTOR
        ):
            signals["above_diverge_lr"] = STRENGTH_ABOVE_DIVERGE_LR
            reasons.append(
                f"the learning rate {lr:.3g} is within {DIVERGE_FACTOR:g}x of {rr.diverge_lr:.3g}, where "
                "the LR range test's loss exploded"
            )
            evidence["diverge_lr"] = rr.diverge_lr

        ratios = np.asarray(tr.update_ratio, dtype=float)
        ratios = ratios[np.isfinite(ratios)]
        if len(ratios):
            median = float(np.median(ratios))
            evidence["median_update_ratio"] = median
            if median > HIGH_UPDATE_RATIO:
                signals["high_updates"] = STRENGTH_HIGH_UPDATES
                reasons.append(
                    f"each step changes the weights by {median:.2g} of their norm (about 1e-3 is healthy)"
                )

        if not signals or not (nonfinite or misbehaving(ev)):
            return None
        strength = 1.0 - float(np.prod([1.0 - s for s in signals.values()]))
        evidence.update(symptom_evidence(ev))
        evidence["signals"] = sorted(signals)

        suggested = rr.suggested_lr if rr is not None else None
        if suggested is not None and (lr is None or suggested < lr):
            new_lr, source = f"{suggested:.2g}", "the LR range test's steepest descent"
        elif lr is not None:
            new_lr, source = f"{lr / FALLBACK_LR_DIVISOR:.2g}", f"{FALLBACK_LR_DIVISOR:g}x lower"
        else:
            new_lr, source = "1e-3", "a safe default for Adam"
        if is_keras(ev):
            call = keras_compile_call(ev, learning_rate=new_lr, clipnorm="1.0")
            fix = f"lower the learning rate to {new_lr} ({source}) and clip the gradients: `{call}`"
        else:
            fix = (
                f"lower the learning rate to {new_lr} ({source}): `{optimizer_call(ev, lr=new_lr)}`, and "
                "clip the gradients with `torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)` between "
                "`loss.backward()` and `optimizer.step()`"
            )
        return self.finding(
            message="the learning rate looks too high: " + "; ".join(reasons) + ".",
            fix=fix,
            evidence=evidence,
            strength=min(MAX_STRENGTH, strength),
        )
