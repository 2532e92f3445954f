"""DP602 bad-init-scale."""

from __future__ import annotations

import math

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import misbehaving, symmetric, symptom_evidence
from deadpan.evidence import Evidence, WeightStats
from deadpan.findings import Change, Finding, Severity

#: Initial std over the std a standard initialiser gives at this fan-in (He et al. 2015 for ReLU layers,
#: Glorot & Bengio 2010 otherwise) beyond which the layer multiplies (or divides) the activation scale by an
#: order of magnitude; PyTorch's default (kaiming_uniform with a=sqrt(5)) sits at ~0.4 of He, well inside.
MAX_RATIO = 10.0
MIN_RATIO = 0.1
#: Weight kinds whose scale is not a fan-in matter (lookup tables, normalisation gains).
EXCLUDED_KINDS = ("Embedding", "BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm")
#: Activation magnitude (probes.layers mean_abs) growing or shrinking by this factor from the first to the
#: last layer confirms the scale problem (exploding / vanishing activations across depth).
DEPTH_GROWTH = 100.0
#: Strengths: at a 10x ratio, at 100x and beyond; more when the model misbehaves or activations confirm it.
STRENGTH_AT_THRESHOLD = 0.35
STRENGTH_AT_100X = 0.5
SYMPTOM_BONUS = 0.25
DEPTH_BONUS = 0.05


def _off(w: WeightStats) -> float:
    """How far off the layer's scale is, as a factor >= 1 (either direction)."""
    r = w.std / w.expected_std
    return r if r >= 1 else 1 / r


def _off_scale(weights: tuple[WeightStats, ...]) -> list[WeightStats]:
    """The layers whose initial std is over ``MAX_RATIO`` times the standard one, or (hidden layers) under
    ``MIN_RATIO`` times it; all-equal rows (DP601's), embeddings and normalisation gains left out."""
    hits: list[WeightStats] = []
    for i, w in enumerate(weights):
        if w.kind.startswith(EXCLUDED_KINDS) or symmetric(w) or w.std <= 0 or w.expected_std <= 0:
            continue
        ratio = w.std / w.expected_std
        hidden = i < len(weights) - 1
        if ratio > MAX_RATIO or (hidden and ratio < MIN_RATIO):
            hits.append(w)
    return hits


@register
class BadInitScale(Check):
    """Initial weights an order of magnitude or more larger or smaller than a standard initialiser's.

    What it detects:
        A weight layer whose initial std is more than 10x (any layer) or less than 0.1x (hidden layers) the
        std He/Glorot initialisation gives at its fan-in. Layers with all-equal rows are DP601's; embeddings
        and normalisation gains are left out. Silent when the model does well.

    Why it makes the output constant:
        Each layer multiplies the activation scale by roughly its ratio. Too large: pre-activations explode,
        ReLU units die or sigmoid/tanh units saturate alike for every input and the huge gradients throw the
        weights onto a constant solution. Too small: activations shrink towards zero with depth, the output is
        the last bias for every input and the gradients vanish.

    Fix:
        Use the standard initialisation: the framework default, or ``nn.init.kaiming_normal_(w,
        nonlinearity="relu")`` (``nn.init.xavier_uniform_`` for tanh/sigmoid); no manual scaling (``* 100``,
        ``normal_(std=1)``, ``* 1e-4``).
    """

    code = "DP602"
    name = "bad-init-scale"
    category = "init.scale"
    requires = ("model.initial_weights",)

    def judge(self, ev: Evidence) -> Finding | None:
        model = ev.model
        assert model is not None
        bad = misbehaving(ev)
        if ev.probes.train_output is not None and not bad:
            return None
        hits = _off_scale(model.initial_weights)
        if not hits:
            return None
        worst = max(hits, key=_off)
        ratio = worst.std / worst.expected_std
        decades = math.log10(_off(worst))
        strength = STRENGTH_AT_THRESHOLD + (STRENGTH_AT_100X - STRENGTH_AT_THRESHOLD) * min(1.0, decades - 1)

        evidence: dict[str, object] = {
            "layer": worst.name,
            "std": worst.std,
            "expected_std": worst.expected_std,
            "ratio": ratio,
            "fan_in": worst.fan_in,
            "layers": {w.name: w.std / w.expected_std for w in hits},
        }
        signals = [s for s in ev.probes.layers if s.activation is None and s.mean_abs > 0]
        if len(signals) >= 2:
            growth = signals[-1].mean_abs / signals[0].mean_abs
            evidence["activation_growth"] = growth
            if growth > DEPTH_GROWTH or growth < 1 / DEPTH_GROWTH:
                strength += DEPTH_BONUS
        if bad:
            strength += SYMPTOM_BONUS
            evidence.update(symptom_evidence(ev))
        severity = Severity.ERROR if bad else Severity.WARNING
        direction = "larger" if ratio > 1 else "smaller"
        effect = (
            "pre-activations explode, units saturate or die alike for every input"
            if ratio > 1
            else "activations shrink towards zero with depth and the output is the last bias for every input"
        )
        return self.finding(
            ev,
            message=f"layer `{worst.name}` starts with weight std {worst.std:.3g}, {_off(worst):.3g}x "
            f"{direction} than standard initialisation gives at fan-in {worst.fan_in} "
            f"({worst.expected_std:.3g}): {effect}.",
            change=Change(
                "standard_init",
                what="weight std",
                current=worst.std,
                proposed=worst.expected_std,
                where=worst.name,
                params={"layers": [w.name for w in hits]},
            ),
            evidence=evidence,
            strength=strength,
            severity=severity,
        )
