"""DP222 vanishing-gradients."""

from __future__ import annotations

import math

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import SATURATING_FAMILIES, misbehaving, symptom_evidence
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding

#: The first weight layer's gradient, per weight (RMS), below this share of the last weight layer's. With
#: ReLU and a standard initialisation the backward signal keeps its scale through the layers (He et al. 2015);
#: a sigmoid's derivative is at most 1/4 and a tanh's falls fast off zero, so each such layer divides it. On
#: the zoo's ReLU networks the share is 0.08 to 0.75 and on their sigmoid twins 0.004 to 0.04: 1/20 is the
#: order of magnitude between them, not a value fitted to one of them.
VANISHING_SHARE = 0.05
#: Strength at the threshold, and at a share ten times smaller (log scale in between).
STRENGTH_AT_THRESHOLD = 0.55
STRENGTH_TENFOLD = 0.75


def _grad_rms(ev: Evidence) -> list[tuple[str, float]]:
    """(weight layer, gradient RMS per weight) in forward order, for layers whose weight gradient was
    recorded: the median gradient norm over sampled steps divided by the square root of the weight count, so
    that a wide first layer and a one-unit head compare."""
    assert ev.model is not None and ev.training is not None
    grads = ev.training.layer_grad_norm
    out = []
    for w in ev.model.final_weights:
        norm = grads.get(f"{w.name}.weight")
        count = math.prod(w.shape)
        if norm is not None and count > 0 and math.isfinite(norm):
            out.append((w.name, norm / math.sqrt(count)))
    return out


@register
class VanishingGradients(Check):
    """Gradients that shrink on their way back through sigmoid/tanh layers, so the first layers barely learn.

    What it detects:
        A model with sigmoid or tanh (or hard/soft variant) hidden activations in which the gradient per
        weight reaching the first weight layer is under 1/20 of the last weight layer's (medians over the
        sampled training steps), while the model's output is collapsed or scores poorly. The units need not
        be saturated: a sigmoid's slope is at most 1/4 even at its centre.

    Why it makes the output constant:
        Every saturating layer scales the backward signal down by its slope, so the layers nearest the input,
        which have to turn the raw features into something the head can separate, learn many times more
        slowly than the head. The head meanwhile fits what it can without them: the class prior or the mean
        target, the same answer for every input. On an imbalanced task that is the majority class.

    Fix:
        Use ``nn.ReLU()`` (or ``nn.GELU()``) in hidden layers with He initialisation
        (``nn.init.kaiming_normal_``), or keep the sigmoid/tanh and add ``nn.BatchNorm1d`` before it and
        Xavier initialisation (``nn.init.xavier_uniform_``); standardize the inputs.
    """

    code = "DP222"
    name = "vanishing-gradients"
    category = "model.saturation"
    requires = ("model", "training", "probes.train_output")

    def judge(self, ev: Evidence) -> Finding | None:
        assert ev.model is not None
        layers = ev.model.layers
        weighted = [i for i, layer in enumerate(layers) if layer.n_params > 0]
        # Hidden activations only: a sigmoid head after the last weight layer is not on the backward path
        # between the first and the last weight layer.
        hidden = layers[: weighted[-1]] if weighted else ()
        saturating = sorted(
            {(layer.activation or "").lower() for layer in hidden}.intersection(SATURATING_FAMILIES)
        )
        if not saturating:
            return None
        rms = _grad_rms(ev)
        if len(rms) < 2 or rms[-1][1] <= 0:
            return None
        (first, g_first), (last, g_last) = rms[0], rms[-1]
        share = g_first / g_last
        if share >= VANISHING_SHARE or not misbehaving(ev):
            return None
        depth = min(1.0, math.log10(VANISHING_SHARE / max(share, 1e-12)))
        strength = STRENGTH_AT_THRESHOLD + (STRENGTH_TENFOLD - STRENGTH_AT_THRESHOLD) * depth
        return self.finding(
            ev,
            message=f"The gradient reaching the first weight layer `{first}` is {share:.3f} of the last "
            f"layer's `{last}` per weight: it vanishes on the way back through the {'/'.join(saturating)} "
            "activations, so the layers nearest the input barely learn and the head settles on one answer "
            "for every input.",
            change=Change(
                "unsaturate_units", what="hidden activation", current="/".join(saturating), where=first
            ),
            evidence={
                "first_layer": first,
                "last_layer": last,
                "first_grad_rms": g_first,
                "last_grad_rms": g_last,
                "grad_share": share,
                "threshold": VANISHING_SHARE,
                "activations": saturating,
                **symptom_evidence(ev),
            },
            strength=strength,
        )
