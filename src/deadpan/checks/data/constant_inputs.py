"""DP110 constant-inputs."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import numeric, rows
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding

#: Across-sample std (largest over features) at or below which the inputs are the same for every sample:
#: float32 rounding of identical values, absolute ...
ABS_TOLERANCE = 1e-12
#: ... or relative to the inputs' mean magnitude (float32 has ~7 significant digits).
REL_TOLERANCE = 1e-6
#: Fewer finite samples than this cannot show variation.
MIN_SAMPLES = 2
#: Nearly constant: one input row (often all zero) makes up at least this share of the sampled inputs. What
#: varies is a handful of rows, too few for the network to learn from: it answers the mean/majority for the
#: rest. (Integer division of 8-bit values by 255 leaves only the pixels that were exactly 255.)
DOMINANT_ROW_SHARE = 0.95
#: ... judged on samples at least this large.
MIN_SAMPLES_DOMINANT = 50
#: Strength for a nearly (not exactly) constant input.
NEARLY_STRENGTH = 0.85

#: The fix: find the preprocessing step that erases the inputs.
CHANGE = Change("restore_inputs", what="inputs")


@register
class ConstantInputs(Check):
    """The training inputs are the same for every sample (often all zero).

    What it detects:
        The sampled training inputs have no across-sample variation in any feature: the largest per-feature
        standard deviation is zero up to float rounding; or nearly so: one input row (often all zero) makes
        up 95% or more of a sample of 50 or more.

    Why it makes the output constant:
        A network is a function of its input. When every sample's input is the same, every output is the same,
        whatever the weights: the best it can learn is the mean target (or the majority class).

    Fix:
        Find the preprocessing step that erases the inputs: integer division (``x // 255`` instead of
        ``x / 255.``), casting to an integer dtype before scaling, a transform that returns a constant tensor,
        normalising each sample with a statistic that cancels it, or feeding the wrong tensor to the model.
    """

    code = "DP110"
    name = "constant-inputs"
    category = "data.inputs"
    requires = ("data",)

    def judge(self, ev: Evidence) -> Finding | None:
        assert ev.data is not None
        if not numeric(ev.data.x):
            return None
        x = rows(ev.data.x)
        x = x[np.isfinite(x).all(axis=1)]
        if len(x) < MIN_SAMPLES or x.shape[1] == 0:
            return None
        max_std = float(x.std(axis=0).max())
        mean_abs = float(np.abs(x).mean())
        if max_std > max(ABS_TOLERANCE, REL_TOLERANCE * mean_abs):
            if len(x) < MIN_SAMPLES_DOMINANT:
                return None
            values, counts = np.unique(x, axis=0, return_counts=True)
            share = float(counts.max()) / len(x)
            if share < DOMINANT_ROW_SHARE:
                return None
            row = values[int(np.argmax(counts))]
            all_zero = bool(np.all(row == 0))
            what = "all zero" if all_zero else "one and the same row"
            return self.finding(
                ev,
                message=f"{share:.1%} of the {len(x)} sampled training inputs are {what}: almost no input "
                "varies, so the network gives (nearly) the same output for every input.",
                change=CHANGE,
                evidence={
                    "n_samples": len(x),
                    "n_features": int(x.shape[1]),
                    "dominant_row_share": share,
                    "distinct_rows": len(values),
                    "all_zero": all_zero,
                    "input_dtype": ev.data.input_dtype,
                },
                strength=NEARLY_STRENGTH,
            )
        all_zero = bool(np.all(x == 0))
        value = "all zero" if all_zero else f"the same values (mean |x| {mean_abs:.3g})"
        return self.finding(
            ev,
            message=f"the {len(x)} sampled training inputs are {value} for every sample: with no variation "
            "in the input the network can only give the same output for every input.",
            change=CHANGE,
            evidence={
                "n_samples": len(x),
                "n_features": int(x.shape[1]),
                "max_feature_std": max_std,
                "mean_abs": mean_abs,
                "all_zero": all_zero,
                "input_dtype": ev.data.input_dtype,
            },
            strength=0.95,
        )
