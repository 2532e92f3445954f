"""DP402 weights-barely-move."""

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

#: Update-to-weight norm ratio per step: about 1e-3 is healthy (Karpathy, CS231n); below 1e-5 the weights
#: need 100,000 steps to change by their own size.
LOW_UPDATE_RATIO = 1e-5
#: The loss dropped by less than this fraction of its starting value over the whole run: it barely moved.
SMALL_LOSS_DROP = 0.1
#: The LR range test's steepest-descent learning rate is at least this many times the user's: the user's
#: learning rate is far below the useful range (Smith 2017).
SUGGESTED_LR_FACTOR = 30.0
#: Gradient norms below this are "no gradient at all": a vanishing-gradient or detached-loss problem that
#: a larger learning rate would not fix, so this check leaves it to those checks.
VANISHED_GRAD_NORM = 1e-8
STRENGTH = 0.6
#: Added when the LR range test confirms a much larger learning rate works.
STRENGTH_LR_RANGE_BONUS = 0.15
#: Taken off when no loss curve was recorded to confirm the loss barely moved.
STRENGTH_NO_CURVE_PENALTY = 0.15
#: Factor to raise the learning rate by when the LR range test gave no suggestion.
FALLBACK_LR_FACTOR = 30.0


@register
class WeightsBarelyMove(Check):
    """The learning rate is too low: the weights barely move within the training budget.

    What it detects:
        Updates that change the weights by less than 1e-5 of their norm per step (about 1e-3 is healthy)
        while the loss drops by less than 10%, the model misbehaves, and (when the LR range test ran) a
        learning rate at least 30x larger descends fastest.

    Why it makes the output constant:
        A freshly initialised network often outputs nearly the same thing for every input, and the first
        thing training learns is the output bias: the class prior or the target mean. With tiny steps training
        never gets past that stage, so the output stays (nearly) constant.

    Fix:
        Raise the learning rate towards the LR range test's suggestion, e.g.
        ``torch.optim.Adam(model.parameters(), lr=1e-3)`` (``SGD`` usually needs 1e-2 to 1e-1).
    """

    code = "DP402"
    name = "weights-barely-move"
    category = "optim.lr_too_low"
    requires = ("training",)

    def judge(self, ev: Evidence) -> Finding | None:
        tr = ev.training
        assert tr is not None
        ratios = np.asarray(tr.update_ratio, dtype=float)
        ratios = ratios[np.isfinite(ratios)]
        if tr.steps <= 0 or len(ratios) == 0 or tr.first_nonfinite_loss_step is not None:
            return None
        median_ratio = float(np.median(ratios))
        if median_ratio >= LOW_UPDATE_RATIO:
            return None
        grads = np.asarray(tr.grad_norm, dtype=float)
        grads = grads[np.isfinite(grads)]
        if len(grads) and float(np.median(grads)) < VANISHED_GRAD_NORM:
            return None
        evidence: dict[str, object] = {"median_update_ratio": median_ratio}
        strength = STRENGTH

        _, loss = loss_curve(tr)
        drop: float | None = None
        if len(loss) >= 3:
            start, end = head(loss), tail(loss)
            drop = (start - end) / max(abs(start), 1e-12)
            evidence["loss_start"], evidence["loss_end"], evidence["relative_loss_drop"] = start, end, drop
            if drop >= SMALL_LOSS_DROP:
                return None
        else:
            strength -= STRENGTH_NO_CURVE_PENALTY

        lr = user_lr(ev)
        rr = ev.probes.lr_range
        suggested = rr.suggested_lr if rr is not None else None
        evidence["lr"] = lr
        if suggested is not None and lr is not None and lr > 0:
            evidence["suggested_lr"] = suggested
            if suggested < SUGGESTED_LR_FACTOR * lr:
                return None
            strength += STRENGTH_LR_RANGE_BONUS
        if not misbehaving(ev):
            return None
        evidence.update(symptom_evidence(ev))

        if suggested is not None:
            new_lr, source = f"{suggested:.2g}", "the LR range test's steepest descent"
        elif lr is not None and lr > 0:
            new_lr, source = f"{lr * FALLBACK_LR_FACTOR:.2g}", f"{FALLBACK_LR_FACTOR:g}x higher"
        else:
            new_lr, source = "1e-3", "a usual starting point for Adam"
        lr_text = f"{lr:.3g}" if lr is not None else "the learning rate"
        return self.finding(
            message=f"the weights barely move: each step changes them by {median_ratio:.2g} of their norm "
            "(about 1e-3 is healthy)"
            + (
                ""
                if drop is None
                else " and the loss did not fall"
                if drop <= 0
                else f" and the loss fell only {100 * drop:.1f}%"
            )
            + f"; {lr_text} is too small a learning rate for this model.",
            fix=f"raise the learning rate to {new_lr} ({source}): "
            + (
                f"`{keras_compile_call(ev, learning_rate=new_lr)}`"
                if is_keras(ev)
                else f"`{optimizer_call(ev, lr=new_lr)}`"
            ),
            evidence=evidence,
            strength=strength,
        )
