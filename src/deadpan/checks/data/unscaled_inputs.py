"""DP111 unscaled-inputs."""

from __future__ import annotations

import math

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import misbehaving, numeric, rows, symptom_evidence
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: Standard inits (Glorot & Bengio 2010, He et al. 2015) assume inputs of roughly unit scale (LeCun et al.
#: 1998, "Efficient BackProp": standardize every input). A feature whose std or mean |x| exceeds this is two
#: orders of magnitude off: first-layer pre-activations are ~100x too large.
LARGE_SCALE = 100.0
#: Largest per-feature std below which every input barely varies: the signal is lost in the biases.
TINY_SCALE = 1e-3
#: Ratio of the largest to the median per-feature std (non-constant features) above which the typical feature
#: is invisible next to the large ones for a gradient step. The median, not the minimum, so that a few
#: nearly-constant features (image border pixels, rare one-hot columns) do not count.
STD_SPREAD_RATIO = 1e4
#: A feature with std at or below this is constant (DP110 judges an all-constant input).
CONSTANT_STD = 1e-12
#: Strength when the model misbehaves at the threshold, per order of magnitude beyond it, and at most.
BASE_STRENGTH = 0.6
STRENGTH_PER_DECADE = 0.1
MAX_STRENGTH = 0.8
#: Strength when no output probe tells whether the model suffers from it.
UNPROBED_STRENGTH = 0.3


def _problems(max_std: float, max_mean_abs: float, spread: float) -> tuple[list[float], list[str]]:
    """How many orders of magnitude each scale problem is past its threshold, and the problems in words."""
    scale = max(max_std, max_mean_abs)
    decades: list[float] = []
    problems: list[str] = []
    if scale > LARGE_SCALE:
        decades.append(math.log10(scale / LARGE_SCALE))
        problems.append(f"values up to std {max_std:.3g} / mean |x| {max_mean_abs:.3g}")
    if max_std < TINY_SCALE:
        decades.append(math.log10(TINY_SCALE / max_std))
        problems.append(f"every feature's std is below {max_std:.3g}")
    if spread > STD_SPREAD_RATIO:
        decades.append(math.log10(spread / STD_SPREAD_RATIO))
        problems.append(f"the largest feature std is {spread:.3g}x the median one")
    return decades, problems


@register
class UnscaledInputs(Check):
    """Inputs far from unit scale: values in the hundreds or more, tiny, or features on very different scales.

    What it detects:
        Sampled training inputs whose per-feature std or mean |x| exceeds 100 (raw pixels 0..255, prices,
        counts), whose largest per-feature std is below 1e-3, or whose largest per-feature std is more than
        1e4 times the median one (non-constant features). Gated on the symptom: an error only when the model's
        output is collapsed or scores poorly, a low-strength warning when no output was probed, silent when
        the model does well.

    Why it makes the output constant:
        Initialisers assume unit-scale inputs. Inputs 100x too large give huge first-layer pre-activations:
        ReLU units die or sigmoid/tanh units saturate for every sample, and the large gradients push the
        weights to a constant solution. Tiny inputs (or tiny features next to huge ones) barely move the
        output, so the network learns the input-independent answer.

    Fix:
        Standardize with statistics of the training set (``x = (x - mean) / std``, the same ``mean``/``std``
        for the held-out data; ``sklearn.preprocessing.StandardScaler``; ``transforms.Normalize``) or, for
        images, divide by 255 (``x / 255.`` / ``transforms.ToTensor()``).
    """

    code = "DP111"
    name = "unscaled-inputs"
    category = "data.inputs"
    requires = ("data",)

    def judge(self, ev: Evidence) -> Finding | None:
        assert ev.data is not None
        if not numeric(ev.data.x):
            return None
        x = rows(ev.data.x)
        x = x[np.isfinite(x).all(axis=1)]
        if len(x) < 2 or x.shape[1] == 0:
            return None
        feature_std = x.std(axis=0)
        varying = feature_std > CONSTANT_STD
        if not varying.any():
            return None  # constant inputs are DP110's finding
        max_std = float(feature_std.max())
        median_std = float(np.median(feature_std[varying]))
        max_mean_abs = float(np.abs(x).mean(axis=0).max())
        scale = max(max_std, max_mean_abs)
        spread = max_std / median_std
        decades, problems = _problems(max_std, max_mean_abs, spread)
        if not problems:
            return None

        probed = ev.probes.train_output is not None or ev.probes.heldout_output is not None
        bad = misbehaving(ev)
        if probed and not bad:
            return None
        if bad:
            strength = min(MAX_STRENGTH, BASE_STRENGTH + STRENGTH_PER_DECADE * max(decades))
            severity = Severity.ERROR
        else:
            strength, severity = UNPROBED_STRENGTH, Severity.WARNING

        x_min, x_max = float(x.min()), float(x.max())
        image_like = (
            ev.data.input_dtype == "uint8"
            or (x_min >= 0 and 1 < x_max <= 255 and bool(np.all(x == np.round(x))))
        ) and scale > LARGE_SCALE
        return self.finding(
            ev,
            message="the inputs are far from unit scale (" + "; ".join(problems) + "): the default "
            "initialisation then gives first-layer activations orders of magnitude off, which kills or "
            "saturates units and leaves the network with an input-independent answer.",
            change=Change("rescale_inputs", what="inputs", current=scale, params={"image_like": image_like}),
            evidence={
                "max_feature_std": max_std,
                "median_feature_std": median_std,
                "max_feature_mean_abs": max_mean_abs,
                "std_spread_ratio": spread,
                "x_min": x_min,
                "x_max": x_max,
                "input_dtype": ev.data.input_dtype,
                **symptom_evidence(ev),
            },
            strength=strength,
            severity=severity,
        )
