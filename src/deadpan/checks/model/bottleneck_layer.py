"""DP202 bottleneck-layer."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.model._structure import is_dense, weight_layer_indices
from deadpan.checks.symptoms import misbehaving, symptom_evidence
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding

#: Rule of thumb: a hidden fully connected layer narrower than the number of classes squeezes C classes into
#: fewer directions than classes, which a softmax readout separates only with finely tuned weights. Judged
#: only from this many classes, since a single unit carries a binary decision well.
MIN_CLASSES = 3
#: Recurrent layers: their state (``hidden_size`` / ``units``) is everything the rest of the model learns of
#: the sequence, a bottleneck like a narrow dense layer.
RECURRENT_KINDS = ("GRU", "LSTM", "RNN", "SimpleRNN")
#: A single hidden unit carries one number, and behind a ReLU it is switched off for half the inputs or dies.
SINGLE_UNIT = 1
#: Strengths: a single-unit layer, and a layer narrower than the classes (more the narrower).
STRENGTH_SINGLE = 0.7
STRENGTH_BASE = 0.55
STRENGTH_RANGE = 0.2
#: Width suggested in the fix: at least this, and at least twice the classes.
SUGGESTED_WIDTH = 64


@register
class BottleneckLayer(Check):
    """A hidden layer too narrow for the output it feeds.

    What it detects:
        A hidden fully connected or recurrent layer (not the last) with fewer units than there are classes
        (from 3 classes), or a single unit, while the model misbehaves (collapsed, scoring poorly, or
        trailing simple models).

    Why it makes the output constant:
        Everything later layers know about the input passes through that layer. With fewer units than classes
        the classes are squeezed into too few directions to keep apart and gradient descent settles on the
        frequent ones; a single unit (especially behind a ReLU) is easily switched
        off for every input, after which everything downstream sees the same value and the output is constant.

    Fix:
        Widen the layer (``nn.Linear(d, 64)`` and ``in_features=64`` in the next layer), at least as wide as
        the number of classes.
    """

    code = "DP202"
    name = "bottleneck-layer"
    category = "model.capacity"
    requires = ("model", "probes.train_output")

    def judge(self, ev: Evidence) -> Finding | None:
        assert ev.model is not None
        if not misbehaving(ev):
            return None
        layers = ev.model.layers
        weights = weight_layer_indices(layers)
        if len(weights) < 2:
            return None
        n_classes = (
            ev.task.n_classes if ev.task is not None and ev.task.kind in ("multiclass", "binary") else None
        )
        narrow: list[tuple[int, int]] = []  # (units, index)
        for i in weights[:-1]:
            layer = layers[i]
            if not (is_dense(layer) or layer.kind in RECURRENT_KINDS) or layer.units is None:
                continue
            too_few = n_classes is not None and n_classes >= MIN_CLASSES and layer.units < n_classes
            if too_few or layer.units <= SINGLE_UNIT:
                narrow.append((layer.units, i))
        if not narrow:
            return None
        units, index = min(narrow)
        layer = layers[index]
        if units <= SINGLE_UNIT:
            strength = STRENGTH_SINGLE
        else:
            assert n_classes is not None
            strength = STRENGTH_BASE + STRENGTH_RANGE * (1 - units / n_classes)
        width = max(SUGGESTED_WIDTH, 2 * (n_classes or 1))
        wider = max((layers[i].units or 0) for i in weights)
        what = f"fewer than the {n_classes} classes" if n_classes and units < n_classes else "a single unit"
        # The activation entry right after the layer (Keras' ``Dense(activation=...)``), kept when widening.
        act = next((x.activation for x in layers[index + 1 : index + 2] if x.kind == "Activation"), None)
        change = Change(
            "widen_layer",
            what="units",
            current=units,
            proposed=width,
            where=layer.name,
            params={"kind": layer.kind, "recurrent": layer.kind in RECURRENT_KINDS, "activation": act},
        )
        return self.finding(
            ev,
            message=f"hidden layer `{layer.name}` ({layer.kind}) has {units} unit(s), {what}: everything the "
            "later layers learn about the input must pass through it, which is too narrow to keep the "
            "answers apart.",
            change=change,
            evidence={
                "layer": layer.name,
                "units": units,
                "n_classes": n_classes,
                "widest_layer_units": wider,
                **symptom_evidence(ev),
            },
            strength=strength,
        )
