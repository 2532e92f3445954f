"""The interventions the search tries (:mod:`deadpan.fixes.search`): which, in what order, and which stage a
winning one names.

Each is a catalogue fix applied for a category. Some apply only where the evidence shows their target (logits
into the loss when it gets probability rows, targets of the output's shape when they broadcast, the output
activation removed when it does not fit the task), so that a trial is spent where it can say something.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deadpan.evidence import Evidence
from deadpan.findings import CATEGORIES, Finding, Report, Severity
from deadpan.fixes.base import REGISTRY, Setup
from deadpan.fixes.catalog import all_fixes, optimizer_default_lr
from deadpan.fixes.catalog.logits_into_loss import raw_scores_into_nll
from deadpan.fixes.verify import MAX_CAUSES

#: Code of the finding a winning intervention makes: DP9 and its category's index in the vocabulary
#: (DP900 data.imbalance ... DP917 train.over_regularized), one finding per category, as one check has one.
CODE_PREFIX = "DP9"


def code_of(category: str) -> str:
    return f"{CODE_PREFIX}{CATEGORIES.index(category):02d}"


@dataclass(frozen=True)
class Intervention:
    """A catalogue fix applied for a cause of ``category``: with the findings the checks made for it, or, for
    a stage no check named, as if one had been found."""

    category: str
    fix: str
    findings: tuple[Finding, ...] = ()

    @property
    def applied_for(self) -> tuple[Finding, ...]:
        """The findings the fix is applied for (a learning-rate change reads its direction from them)."""
        stand_in = Finding(code_of(self.category), "intervention", self.category, Severity.WARNING, "", "")
        return self.findings or (stand_in,)

    def apply(self, control: Setup, ev: Evidence) -> Setup:
        return REGISTRY[self.fix].apply_to(control, ev, self.applied_for)


#: Every intervention, in the order tried when the evidence prefers none: cheap and decisive ones first,
#: longer training last (it costs the most and restores slow learners of every kind).
INTERVENTIONS: tuple[Intervention, ...] = (
    Intervention("train.loop", "correct-loop"),
    Intervention("train.loop", "train-every-parameter"),
    Intervention("optim.lr_too_high", "lr-from-range-test"),
    Intervention("optim.lr_too_low", "lr-from-range-test"),
    Intervention("optim.lr_too_high", "optimizer-default-lr"),
    Intervention("optim.lr_too_low", "optimizer-default-lr"),
    Intervention("optim.lr_too_high", "scale-lr"),
    Intervention("init.scale", "reinitialize"),
    Intervention("data.inputs", "standardize-inputs"),
    Intervention("loss.mismatch", "logits-into-loss"),
    Intervention("loss.mismatch", "match-target-shape"),
    Intervention("model.output", "output-head"),
    Intervention("data.imbalance", "resample-classes"),
    Intervention("train.over_regularized", "lighter-regularization"),
    Intervention("model.saturation", "relu-activations"),
    Intervention("optim.lr_too_low", "scale-lr"),
    Intervention("train.too_short", "more-steps"),
)


#: Stages whose interventions are tried first: what the loop, the loss and the output layer compute.
STRUCTURAL = ("train.loop", "loss.mismatch", "model.output")


def _applies(ev: Evidence, iv: Intervention) -> bool:
    """Interventions whose change only makes sense where the evidence shows its target: probabilities into a
    loss that takes logits (or raw scores into ``nll_loss``), a target that broadcasts against the output, a
    final activation to remove."""
    loss = ev.loss
    if iv.fix == "logits-into-loss":
        return loss is not None and (loss.input_rows_are_probabilities or raw_scores_into_nll(ev))
    if iv.fix == "match-target-shape":
        return loss is not None and loss.broadcast_shape is not None
    if iv.fix == "output-head":
        return _head_mismatch(ev)
    return _lr_direction(ev, iv)


#: The output activations that fit each task (a sigmoid per label, a softmax over classes); any other
#: squashing at the end of the model can keep it from expressing its targets.
CANONICAL_HEADS = {
    "binary": ("sigmoid",),
    "multilabel": ("sigmoid",),
    "multiclass": ("softmax", "log_softmax"),
}


def _head_mismatch(ev: Evidence) -> bool:
    """The model ends in an activation that does not fit its task (a ReLU or sigmoid on a regression, a
    softmax over one unit)."""
    if ev.model is None or ev.task is None:
        return False
    final = None
    for layer in reversed(ev.model.layers):
        if layer.activation:
            final = layer.activation.lower()
            break
        if layer.n_params > 0:
            break
    return final is not None and final not in CANONICAL_HEADS.get(ev.task.kind, ())


def _range_test_direction(ev: Evidence) -> str | None:
    """The category the range test's rate answers: ``optim.lr_too_high`` when it is below the user's rate,
    ``optim.lr_too_low`` when above; None without both rates."""
    rr = ev.probes.lr_range
    if rr is None or rr.suggested_lr is None or rr.user_lr is None:
        return None
    return "optim.lr_too_high" if rr.suggested_lr < rr.user_lr else "optim.lr_too_low"


def _lr_direction(ev: Evidence, iv: Intervention) -> bool:
    """The range test's rate, or the optimizer's usual one, moves the learning rate in this intervention's
    direction."""
    if iv.fix == "lr-from-range-test":
        moved = _range_test_direction(ev)
    elif iv.fix == "optimizer-default-lr":
        moved = optimizer_default_lr.direction(ev)
    else:
        return True
    return moved is not None and moved == iv.category


def ordered(report: Report, ev: Evidence) -> list[Intervention]:
    """The interventions to try: first every catalogue fix that answers one of the causes the checks found
    (in their rank, with their findings, as ``--verify`` applies them), then the rest of
    :data:`INTERVENTIONS`; a range-test rate only in the direction the test points."""
    by_code = {f.code: f for f in report.findings}
    first: list[Intervention] = []
    for cause in report.causes[:MAX_CAUSES]:
        found = tuple(by_code[c] for c in cause.findings if c in by_code)
        first += [
            Intervention(cause.category, f.name, found)
            for f in all_fixes()
            if f.answers(cause.category, found)
        ]
    seen = {(iv.category, iv.fix) for iv in first}
    rest = [
        iv
        for iv in INTERVENTIONS
        if iv.fix in REGISTRY and _applies(ev, iv) and (iv.category, iv.fix) not in seen
    ]
    # The loop, the loss and the output head first, where the evidence shows their target: a learning rate
    # or more steps can compensate for them (a larger rate against a double softmax's tiny gradients) and
    # would otherwise be proven first.
    unique: dict[tuple[str, str], Intervention] = {}
    for iv in first + rest:
        unique.setdefault(_trains_the_same(iv), iv)  # the first: the checks' cause, with its findings
    return sorted(unique.values(), key=lambda iv: iv.category not in STRUCTURAL)


def _trains_the_same(iv: Intervention) -> tuple[str, str]:
    """Interventions that build the same trial (a fix is the same change whichever cause it is applied for,
    except a tenfold learning-rate step, whose direction is the cause's): one trial for them all."""
    return iv.fix, iv.category if iv.fix == "scale-lr" else ""


#: A layer whose units are at least this share dead (ReLU) or saturated (sigmoid/tanh) on the probe batch.
MOSTLY = 0.5
#: Initial weights whose std is this many times a standard initialiser's, or this many times below it
#: (median over the layers), start at the wrong scale.
OFF_SCALE = 10.0


def stage_of(iv: Intervention, ev: Evidence) -> str:
    """The category a winning intervention names. A fresh initialisation restores a model whose start was
    wrong in several ways: the evidence says which — weight rows all equal at the start (symmetry), weights
    ten times off a standard initialiser's scale (the scale, whose effects dead or saturated units are),
    most units of a layer dead or saturated (the units: a bias pushed them there), else the scale. The range
    test's learning rate names the direction it moved the rate in, whichever cause it was tried for."""
    if iv.fix == "lr-from-range-test":
        return _range_test_direction(ev) or iv.category
    if iv.fix != "reinitialize":
        return iv.category
    initial = ev.model.initial_weights if ev.model is not None else ()
    if any(w.fan_out > 1 and w.distinct_rows <= 1.0 / w.fan_out for w in initial):
        return "init.symmetry"
    scales = [w.std / w.expected_std for w in initial if w.expected_std > 0]
    if scales and not 1 / OFF_SCALE < float(np.median(scales)) < OFF_SCALE:
        return "init.scale"  # the dead or saturated units that follow are its effect
    layers = ev.probes.layers
    if any(layer.dead_fraction >= MOSTLY for layer in layers):
        return "model.dead_units"
    if any(layer.saturated_fraction >= MOSTLY for layer in layers):
        return "model.saturation"
    return iv.category
