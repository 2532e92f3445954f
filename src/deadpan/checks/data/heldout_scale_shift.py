"""DP113 heldout-scale-shift."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import numeric, poor_score, probe_misbehaves, rows
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: Held-out / training ratio of the overall input std or mean |x| beyond which the two sets are on different
#: scales: an order of magnitude is far beyond any sampling difference between splits of one dataset, and is
#: what a preprocessing step applied to one split only produces (/255, standardization).
SHIFT_RATIO = 10.0
#: Magnitudes at or below this are treated as zero (no ratio can be formed).
EPS = 1e-12
#: Strength when the held-out output misbehaves or was not probed, and when it still looks fine.
STRENGTH_SYMPTOM = 0.85
STRENGTH_UNPROBED = 0.7
STRENGTH_NO_SYMPTOM = 0.4


def _scale(x: np.ndarray) -> tuple[float, float] | None:
    a = rows(x)
    a = a[np.isfinite(a).all(axis=1)]
    if len(a) < 2:
        return None
    return float(a.std()), float(np.abs(a).mean())


@register
class HeldoutScaleShift(Check):
    """Held-out inputs on a different scale from the training inputs.

    What it detects:
        The overall std or mean |x| of the held-out inputs differs from the training inputs' by more than a
        factor 10, e.g. inputs normalised (or divided by 255) at training time only.

    Why it makes the output constant:
        The network only ever saw inputs on the training scale. Inputs 10x larger (or smaller) push every unit
        far outside the range it was trained on: ReLU/sigmoid units saturate or switch off alike for every
        sample, and the model answers the same thing for every held-out input.

    Fix:
        Apply the exact same preprocessing to every split: fit the statistics on the training set once and
        reuse them (``scaler.transform(x_test)`` after ``scaler.fit(x_train)``; the same
        ``transforms.Normalize`` / ``ToTensor`` in the test transform as in the training one).
    """

    code = "DP113"
    name = "heldout-scale-shift"
    category = "data.inputs"
    requires = ("data.x_heldout",)

    def judge(self, ev: Evidence) -> Finding | None:
        data = ev.data
        assert data is not None and data.x_heldout is not None
        if not (numeric(data.x) and numeric(data.x_heldout)):
            return None
        train, held = _scale(data.x), _scale(data.x_heldout)
        if train is None or held is None:
            return None
        ratios: dict[str, float] = {}
        for key, t, h in (("std", train[0], held[0]), ("mean_abs", train[1], held[1])):
            if t > EPS and h > EPS:
                ratios[key] = h / t
        shifted = {k: r for k, r in ratios.items() if r > SHIFT_RATIO or r < 1 / SHIFT_RATIO}
        if not shifted:
            return None
        held_probe = ev.probes.heldout_output
        if held_probe is None:
            strength, severity = STRENGTH_UNPROBED, Severity.ERROR
        elif probe_misbehaves(held_probe, poor_score(ev)):
            strength, severity = STRENGTH_SYMPTOM, Severity.ERROR
        else:
            strength, severity = STRENGTH_NO_SYMPTOM, Severity.WARNING
        worst = max(shifted.values(), key=lambda r: max(r, 1 / r))
        direction = "larger" if worst > 1 else "smaller"
        factor = worst if worst > 1 else 1 / worst
        evidence: dict[str, object] = {
            "train_std": train[0],
            "heldout_std": held[0],
            "train_mean_abs": train[1],
            "heldout_mean_abs": held[1],
            "std_ratio": ratios.get("std"),
            "mean_abs_ratio": ratios.get("mean_abs"),
        }
        if held_probe is not None:
            evidence["heldout_normalized_score"] = held_probe.normalized_score
        return self.finding(
            ev,
            message=f"the held-out inputs are about {factor:.3g}x {direction} than the training inputs "
            f"(std {held[0]:.3g} vs {train[0]:.3g}, mean |x| {held[1]:.3g} vs {train[1]:.3g}): they were "
            "preprocessed differently, so the network sees inputs far outside its training range and answers "
            "alike for all of them.",
            change=Change("same_preprocessing", what="held-out inputs", params={"scale_ratio": worst}),
            evidence=evidence,
            strength=strength,
            severity=severity,
        )
