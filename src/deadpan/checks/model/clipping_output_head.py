"""DP211 clipping-output-head."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.model._structure import activation, weight_layer_indices
from deadpan.checks.symptoms import is_regression, nearly_constant, numeric
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: Share of the regression targets the head cannot reach above which the clipping matters: one target in ten
#: is a large systematic error, not an outlier.
MEANINGFUL_SHARE = 0.1
#: From this share on, most targets are unreachable: the head is the definite cause.
MAJORITY_SHARE = 0.5
#: Slack around [0, 1] before a target counts as "well outside" a sigmoid head's range.
UNIT_SLACK = 0.05
#: Strength at MEANINGFUL_SHARE, and at MAJORITY_SHARE and beyond.
STRENGTH_LOW = 0.6
STRENGTH_HIGH = 0.85


@register
class ClippingOutputHead(Check):
    """A regression head whose activation cannot reach the targets (ReLU vs negative targets, sigmoid vs > 1).

    What it detects:
        A regression model (MSE/L1/Huber loss) whose outputs are all non-negative (a ReLU head) while at least
        10% of the targets are negative, or all in [0, 1] (a sigmoid head) while at least 10% of the targets
        lie outside [0, 1].

    Why it makes the output constant:
        The head clips every prediction to its range. For targets outside it the best reachable answer is the
        boundary (0 for a ReLU, 0 or 1 for a sigmoid); a ReLU head pushed below zero outputs exactly 0 with
        zero gradient and never recovers, so many or all inputs get the same output.

    Fix:
        Remove the activation from the regression head (end in a plain ``nn.Linear(d, 1)``), or rescale the
        targets into the head's range (e.g. min-max to [0, 1] for a sigmoid head) and undo it at prediction
        time.
    """

    code = "DP211"
    name = "clipping-output-head"
    category = "model.output"
    requires = ("data", "probes.train_output")

    def judge(self, ev: Evidence) -> Finding | None:
        assert ev.data is not None and ev.probes.train_output is not None
        out = ev.probes.train_output
        if not is_regression(ev) or not numeric(ev.data.y):
            return None
        y = np.asarray(ev.data.y, dtype=float).reshape(-1)
        y = y[np.isfinite(y)]
        if len(y) == 0:
            return None
        negative = float(np.mean(y < 0))
        outside = float(np.mean((y < -UNIT_SLACK) | (y > 1 + UNIT_SLACK)))
        if out.outputs_in_unit_interval and outside >= MEANINGFUL_SHARE:
            share, head, bound = outside, "sigmoid", "[0, 1]"
        elif out.outputs_nonnegative and negative >= MEANINGFUL_SHARE:
            share, head, bound = negative, "ReLU", "[0, inf)"
        else:
            return None

        name, head_layer = None, ""
        if ev.model is not None:
            layers = ev.model.layers
            weights = weight_layer_indices(layers)
            tail = layers[weights[-1] :] if weights else layers[-1:]
            acts = [layer for layer in tail if activation(layer) is not None]
            if acts:
                name, head_layer = f"`{acts[-1].name}` ({acts[-1].activation})", acts[-1].name
        if name is None and ev.model is not None and nearly_constant(out):
            # A constant output lies inside any bound: with no bounded activation on the head (a functional
            # one would not show among the layers), the bound says nothing about the head.
            return None
        where = name or f"a {head}-like activation"
        frac = min(1.0, (share - MEANINGFUL_SHARE) / (MAJORITY_SHARE - MEANINGFUL_SHARE))
        strength = STRENGTH_LOW + (STRENGTH_HIGH - STRENGTH_LOW) * frac
        severity = Severity.ERROR if share >= 2 * MEANINGFUL_SHARE else Severity.WARNING
        return self.finding(
            ev,
            message=f"the regression outputs all lie in {bound} ({where} on the head) but {share:.0%} of the "
            f"targets (range [{y.min():.3g}, {y.max():.3g}]) lie outside it: the head clips those "
            "predictions to its boundary, where the gradient vanishes, so many inputs get the same output.",
            change=Change(
                "linear_regression_head",
                what="output activation",
                current=head,
                where=head_layer,
                params={"head": head},
            ),
            evidence={
                "head": head,
                "outputs_nonnegative": out.outputs_nonnegative,
                "outputs_in_unit_interval": out.outputs_in_unit_interval,
                "unreachable_target_share": share,
                "target_min": float(y.min()),
                "target_max": float(y.max()),
                "normalized_score": out.normalized_score,
            },
            strength=strength,
            severity=severity,
        )
