"""DP507 frozen-random-layers."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import misbehaving, symptom_evidence
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: Frozen layers hold at least this share of the model's parameters: most of the network cannot learn.
FROZEN_SHARE = 0.5
#: A frozen layer's weights "look freshly initialised" when their std is within this factor of the std a
#: standard initialiser gives at their fan-in (He or Glorot): random weights, not learnt ones. Learnt
#: weights can look the same, so this raises the strength rather than deciding.
INIT_LIKE_FACTOR = 3.0
#: Layers named in the message at most.
MAX_NAMES = 5
STRENGTH = 0.5
#: Added when every frozen layer's weights look freshly initialised.
STRENGTH_INIT_LIKE = 0.15
#: Added when the run loaded a checkpoint (``load_state_dict``) but into none of the frozen layers: the
#: load event itself says they are random, whatever their statistics look like.
STRENGTH_UNLOADED = 0.2


@register
class FrozenRandomLayers(Check):
    """Most of the model is frozen, and the frozen weights look like a fresh random initialisation.

    What it detects:
        Layers that cannot train (Keras ``layer.trainable = False``, PyTorch ``requires_grad=False``) holding
        at least half of the model's parameters, while the model misbehaves or trails simple models on the
        same inputs. Stronger when the frozen layers' weight std is within 3x of a standard initialiser's
        (random features, not pretrained ones), and when the run loaded a checkpoint (``load_state_dict``)
        but not into them; silent when every frozen layer was loaded from one in the run.

    Why it makes the output constant:
        Only the unfrozen layers (often just the output layer) learn, on top of fixed random features. Random
        features of a deep stack carry little of the input's structure, so the trainable head learns mostly
        its bias: the class prior or the target mean, the same answer for every input.

    Fix:
        Unfreeze the layers (``layer.trainable = True`` and compile again in Keras;
        ``p.requires_grad_(True)`` for their parameters in PyTorch, and give them to the optimizer). Freezing
        is for pretrained weights: check that they were loaded before freezing.
    """

    code = "DP507"
    name = "frozen-random-layers"
    category = "train.loop"
    requires = ("model",)

    def judge(self, ev: Evidence) -> Finding | None:
        model = ev.model
        assert model is not None
        frozen = [layer for layer in model.layers if layer.n_params > 0 and not layer.trainable]
        frozen_params = sum(layer.n_params for layer in frozen)
        if not frozen or model.n_params <= 0 or frozen_params < FROZEN_SHARE * model.n_params:
            return None
        if not misbehaving(ev):
            return None
        loaded = _loaded_layers(ev, [layer.name for layer in frozen])
        if loaded is not None and len(loaded) == len(frozen):
            return None  # every frozen layer was filled from a checkpoint in this run: pretrained, not random
        initial = {w.name: w for w in model.initial_weights}
        ratios = [
            initial[layer.name].std / initial[layer.name].expected_std
            for layer in frozen
            if layer.name in initial and initial[layer.name].expected_std > 0
        ]
        init_like = bool(ratios) and all(1 / INIT_LIKE_FACTOR <= r <= INIT_LIKE_FACTOR for r in ratios)
        share = frozen_params / model.n_params
        names = ", ".join(f"`{layer.name}`" for layer in frozen[:MAX_NAMES])
        if len(frozen) > MAX_NAMES:
            names += f" and {len(frozen) - MAX_NAMES} more"
        looks = (
            " Their weights look like a fresh random initialisation (std within "
            f"{INIT_LIKE_FACTOR:g}x of a standard initialiser's): random features, not pretrained ones."
            if init_like
            else ""
        )
        unloaded = loaded is not None and model.state_loads > 0
        if unloaded:
            looks += (
                f" A checkpoint was loaded in this run ({model.state_loads} `load_state_dict` call(s)), but "
                "not into these layers: they keep the weights they were built with."
            )
        change = Change(
            "unfreeze_layers",
            what="trainable",
            current=False,
            proposed=True,
            params={"layers": [layer.name for layer in frozen]},
        )
        return self.finding(
            ev,
            message=f"{len(frozen)} layer(s) cannot train ({names}): {100 * share:.0f}% of the model's "
            f"{model.n_params} parameters are frozen, so only the rest learns.{looks}",
            change=change,
            evidence={
                "frozen_layers": [layer.name for layer in frozen],
                "frozen_params": frozen_params,
                "n_params": model.n_params,
                "frozen_share": share,
                "init_std_ratio": float(np.median(ratios)) if ratios else None,
                "init_like": init_like,
                **symptom_evidence(ev),
            },
            strength=STRENGTH
            + (STRENGTH_INIT_LIKE if init_like else 0.0)
            + (STRENGTH_UNLOADED if unloaded else 0.0),
            severity=Severity.WARNING,
        )


def _loaded_layers(ev: Evidence, names: list[str]) -> list[str] | None:
    """Those of the layers ``names`` whose parameters a ``load_state_dict`` filled in this run; None where
    deadpan did not watch loading."""
    assert ev.model is not None
    loaded = ev.model.loaded_names
    if loaded is None:
        return None
    return [n for n in names if any(p.startswith(f"{n}.") for p in loaded)]
