"""DP601 symmetric-weights."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import misbehaving, symmetric
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: Strengths: symmetric at init (or at the end when only the end was recorded), still symmetric at the end of
#: training too, and symmetric at init but broken later (dropout breaks symmetry) in a misbehaving model.
STRENGTH_SEEN = 0.9
STRENGTH_CONFIRMED = 0.95
STRENGTH_BROKEN_LATER = 0.5


@register
class SymmetricWeights(Check):
    """A hidden layer's weights start equal (zeros or a constant), so its units stay identical.

    What it detects:
        A hidden weight matrix (any but the model's last) with more than one output unit whose rows are all
        equal at initialisation, e.g. after ``nn.init.zeros_`` or ``nn.init.constant_``. The last layer is
        left out: zero-initialising the output layer alone is common and harmless.

    Why it makes the output constant:
        Units with equal weights compute the same output and receive the same gradient, so they stay equal
        for ever: the layer behaves like a single unit. With zeros the hidden activations are also zero or
        constant for every input, the gradients into the earlier layers are zero, and the output is the bias,
        the same for every input.

    Fix:
        Remove ``nn.init.zeros_`` / ``nn.init.constant_`` (or ``weight.data.fill_``) on weights and keep the
        default initialisation, or use ``nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")``; biases
        may stay zero.
    """

    code = "DP601"
    name = "symmetric-weights"
    category = "init.symmetry"
    requires = ("model",)

    def judge(self, ev: Evidence) -> Finding | None:
        model = ev.model
        assert model is not None
        stage = "initial" if model.initial_weights else "final"
        weights = model.initial_weights or model.final_weights
        if len(weights) < 2:
            return None
        hits = [w for w in weights[:-1] if symmetric(w)]
        if not hits:
            return None
        final = {w.name: w for w in model.final_weights}
        broken = [
            w.name for w in hits if stage == "initial" and w.name in final and not symmetric(final[w.name])
        ]
        if broken and len(broken) == len(hits):
            if ev.probes.train_output is not None and not misbehaving(ev):
                return None
            strength, severity = STRENGTH_BROKEN_LATER, Severity.WARNING
        elif stage == "initial" and any(w.name in final and symmetric(final[w.name]) for w in hits):
            strength, severity = STRENGTH_CONFIRMED, Severity.ERROR
        else:
            strength, severity = STRENGTH_SEEN, Severity.ERROR
        first = hits[0]
        zero = first.std == 0 and first.mean_abs == 0
        how = "all zero" if zero else "identical in every row (a constant init)"
        when = "at initialisation" if stage == "initial" else "at the end of training"
        return self.finding(
            ev,
            message=f"the weights of hidden layer `{first.name}` ({first.fan_out} units) are {how} {when}: "
            "identical units get identical gradients and stay identical, so the layer acts as one unit"
            + (" and passes the same zero vector for every input." if zero else "."),
            change=Change(
                "break_symmetry",
                what="weight init",
                where=first.name,
                params={"layers": [w.name for w in hits]},
            ),
            evidence={
                "stage": stage,
                "layers": [w.name for w in hits],
                "distinct_rows": {w.name: w.distinct_rows for w in hits},
                "fan_out": {w.name: w.fan_out for w in hits},
                "std": {w.name: w.std for w in hits},
                "symmetry_broken_in_training": broken,
            },
            strength=strength,
            severity=severity,
        )
