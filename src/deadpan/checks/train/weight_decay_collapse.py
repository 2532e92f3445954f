"""DP530 weight-decay-collapse."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import (
    misbehaving,
    nearly_constant,
    optimizer_name,
    output_probe,
    symptom_evidence,
)
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.phrasebook import framework_of, say

#: Coupled weight decay (L2 added to the gradient: SGD, Adam ``weight_decay``) is usually 1e-4 to 5e-4
#: (ResNet / VGG recipes); from 0.05 (100x that) it dominates the gradient of most losses.
LARGE_COUPLED_DECAY = 0.05
#: Decoupled weight decay (AdamW) defaults to 1e-2 and large models use 0.1; from 0.5 it is extreme.
LARGE_DECOUPLED_DECAY = 0.5
#: A hand-written L2 penalty coefficient from which it dominates (same rule as coupled weight decay).
LARGE_EXPLICIT_L2 = 0.05
#: A layer's weights shrank: final std below this fraction of the initial std.
SHRUNK_RATIO = 0.3
#: "Most layers": more than this fraction of the layers with weights shrank.
SHRUNK_LAYERS = 0.5
#: The output is near-constant: across-sample spread below this fraction of the targets' spread.
NEAR_CONSTANT_SPREAD = 0.2
#: Weights shrunk to below this fraction of their initial std and a collapsed output: the strong case.
SEVERE_RATIO = 0.1
#: The weight decay to lower to (AdamW's default for decoupled decay, the usual coupled L2), and the L2
#: coefficient of a hand-written penalty.
NEW_DECOUPLED_DECAY = 1e-2
NEW_COUPLED_DECAY = 1e-4
NEW_L2 = 1e-4
STRENGTH = 0.75
STRENGTH_SEVERE = 0.85


def _lowered(ev: Evidence, decay: float | None, decoupled: bool, l2: float | None) -> Change:
    """Lower the large weight decay (``decay``) and the large hand-written L2 coefficient (``l2``), where
    they are not None."""
    new_decay = None if decay is None else NEW_DECOUPLED_DECAY if decoupled else NEW_COUPLED_DECAY
    return Change(
        "lower_regularization",
        what="weight_decay" if decay is not None else "l2_penalty",
        current=decay if decay is not None else l2,
        proposed=new_decay if new_decay is not None else NEW_L2,
        params={
            "weight_decay": decay,
            "new_weight_decay": new_decay,
            "decoupled": decoupled,
            "explicit_l2": l2,
            "optimizer": optimizer_name(ev),
        },
    )


@register
class WeightDecayCollapse(Check):
    """Regularisation so strong that it pulls the weights, and the output, towards zero.

    What it detects:
        A large weight decay (coupled L2 >= 0.05, AdamW's decoupled decay >= 0.5, or a hand-written L2
        penalty >= 0.05), weights that ended at under 30% of their initial std in most layers, and an output
        that is (nearly) constant or scores poorly.

    Why it makes the output constant:
        The penalty outweighs the data loss, so the cheapest solution is weights near zero: every hidden unit
        then outputs (nearly) the same value for every input and the output reduces to its bias, the class
        prior or the target mean.

    Fix:
        Lower the weight decay to about 1e-4 (or 0), e.g. ``torch.optim.Adam(model.parameters(), lr=1e-3,
        weight_decay=1e-4)``, and lower a hand-written L2 coefficient the same way.
    """

    code = "DP530"
    name = "weight-decay-collapse"
    category = "train.over_regularized"
    requires = ("training", "model")

    def judge(self, ev: Evidence) -> Finding | None:
        tr, model = ev.training, ev.model
        assert tr is not None and model is not None
        opt = tr.optimizer
        decay = opt.weight_decay if opt is not None else 0.0
        decoupled = opt is not None and opt.decoupled_weight_decay
        limit = LARGE_DECOUPLED_DECAY if decoupled else LARGE_COUPLED_DECAY
        large_decay = decay >= limit
        large_l2 = tr.explicit_l2 >= LARGE_EXPLICIT_L2
        if not (large_decay or large_l2):
            return None

        initial = {w.name: w.std for w in model.initial_weights if w.std > 0}
        ratios = {w.name: w.std / initial[w.name] for w in model.final_weights if w.name in initial}
        if not ratios:
            return None
        values = np.asarray(list(ratios.values()), dtype=float)
        shrunk = float(np.mean(values < SHRUNK_RATIO))
        if shrunk <= SHRUNK_LAYERS:
            return None

        probe = output_probe(ev)
        if probe is None:
            return None
        flat = nearly_constant(probe) or probe.output_spread_ratio < NEAR_CONSTANT_SPREAD
        if not (flat or misbehaving(ev)):
            return None

        median = float(np.median(values))
        severe = nearly_constant(probe) and median < SEVERE_RATIO
        penalty = []
        if large_decay:
            penalty.append(f"{'decoupled ' if decoupled else ''}weight_decay={decay:g}")
        if large_l2:  # Keras reports a `kernel_regularizer` l2 factor as the weight decay it amounts to
            penalty.append(say("l2_penalty", framework_of(ev), l2=tr.explicit_l2))
        change = _lowered(ev, decay if large_decay else None, decoupled, tr.explicit_l2 if large_l2 else None)
        return self.finding(
            ev,
            message=f"{' and '.join(penalty)} pulled the weights towards zero: in {100 * shrunk:.0f}% of "
            f"the layers the final weight std is under {SHRUNK_RATIO:g}x the initial (median "
            f"{median:.2g}x), and the output is nearly the same for every input.",
            change=change,
            evidence={
                "weight_decay": decay,
                "decoupled": decoupled,
                "explicit_l2": tr.explicit_l2,
                "shrunk_layer_fraction": shrunk,
                "median_std_ratio": median,
                "std_ratio_by_layer": ratios,
                **symptom_evidence(ev),
            },
            strength=STRENGTH_SEVERE if severe else STRENGTH,
        )
