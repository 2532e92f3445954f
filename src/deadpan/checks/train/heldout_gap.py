"""DP520 heldout-gap."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import loss_curve, tail
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: The model fits its training data: normalized training score (0 = chance, 1 = perfect) at least this.
TRAIN_FITS = 0.8
#: Training minus held-out normalized score above this is a generalisation gap, not noise.
GAP = 0.25
#: With the held-out loss rising, a smaller gap suffices (the trend already shows overfitting).
GAP_WITH_RISING_LOSS = 0.1
#: The held-out loss ended this fraction above its best value, which came before the end: it is rising.
HELDOUT_RISE = 0.25
#: Strengths: the gap rule scales from ``STRENGTH_GAP`` up to ``STRENGTH_MAX`` as the gap widens; the
#: held-out loss trend alone is weaker, and adds ``STRENGTH_BOTH_BONUS`` to the gap rule.
STRENGTH_GAP = 0.6
STRENGTH_LOSS_TREND = 0.5
STRENGTH_BOTH_BONUS = 0.1
STRENGTH_MAX = 0.85


@register
class HeldoutGap(Check):
    """The model fits the training data but not held-out data.

    What it detects:
        A model that scores well on its training batch (normalized score >= 0.8) but much worse on held-out
        data (a gap over 0.25), or whose held-out loss rose from its best while the training loss kept
        falling.

    Why it makes the output constant:
        The model memorised the training examples instead of learning the mapping. On new inputs it falls
        back to what it saw most, often the majority class or a narrow range of values, so held-out outputs
        are nearly the same for every input.

    Fix:
        Regularise: ``weight_decay=1e-4`` in the optimizer, ``nn.Dropout(0.3)`` between hidden layers, stop
        when the held-out loss stops improving (early stopping), and add data or augmentation.
    """

    code = "DP520"
    name = "heldout-gap"
    category = "train.overfit"
    requires = ("probes.train_output", "probes.heldout_output")

    def judge(self, ev: Evidence) -> Finding | None:
        train, held = ev.probes.train_output, ev.probes.heldout_output
        if train is None or held is None:
            return None
        train_n, held_n = train.normalized_score, held.normalized_score
        if not (np.isfinite(train_n) and np.isfinite(held_n)) or train_n < TRAIN_FITS:
            return None
        gap = train_n - held_n
        evidence: dict[str, object] = {"train_normalized_score": train_n, "heldout_normalized_score": held_n}
        evidence["gap"] = gap
        reasons: list[str] = []
        strength = 0.0
        if gap > GAP:
            strength = min(STRENGTH_MAX, STRENGTH_GAP + (gap - GAP))
            reasons.append(
                f"the normalized score is {train_n:.2f} on training data but {held_n:.2f} held out"
            )

        tr = ev.training
        if tr is not None and gap > GAP_WITH_RISING_LOSS:
            heldout = np.asarray(tr.heldout_loss, dtype=float)
            heldout = heldout[np.isfinite(heldout)]
            _, loss = loss_curve(tr)
            if len(heldout) >= 3 and len(loss) >= 5:
                best, best_at, end = float(heldout.min()), int(heldout.argmin()), float(heldout[-1])
                middle = float(
                    np.median(loss[len(loss) * 2 // 5 : max(len(loss) * 3 // 5, len(loss) * 2 // 5 + 1)])
                )
                rising = best_at < len(heldout) - 1 and end - best > HELDOUT_RISE * abs(best)
                if rising and tail(loss) < middle:
                    reasons.append(
                        f"the held-out loss rose from its best {best:.4g} to {end:.4g} while the training "
                        "loss kept falling"
                    )
                    evidence["heldout_loss_best"], evidence["heldout_loss_end"] = best, end
                    strength = (
                        min(STRENGTH_MAX, strength + STRENGTH_BOTH_BONUS) if strength else STRENGTH_LOSS_TREND
                    )
        if not reasons:
            return None
        return self.finding(
            ev,
            message="the model fits its training data but not held-out data: " + "; ".join(reasons) + ".",
            change=Change("regularize", what="regularisation", params={"gap": gap}),
            evidence=evidence,
            strength=strength,
            severity=Severity.WARNING,
        )
