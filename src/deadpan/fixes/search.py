"""Differential diagnosis by intervention: when a broken run has no cause the checks are sure of, try generic
changes of every stage of the pipeline on copies and keep the ones that restore learning.

The checks are a catalogue of named faults; a fault nobody named shows its symptom (one answer for every
input) and nothing else. The search asks the training itself: from the same start, for the same budget, it
trains the control (the run as the user ran it, :mod:`deadpan.fixes.control`) and copies that each change one
stage — the learning rate down or up (the range test's rate, or tenfold), the loop and the optimizer's
parameters, a fresh initialisation, standardised inputs, no regularisation, ReLU hidden units, more steps.
An intervention that lifts the held-out score by :data:`~deadpan.fixes.verify.MIN_GAIN` without collapsing
names its stage as a cause, marked verified, with the before/after scores as its evidence; interventions
that change nothing lower the causes of their stage (:func:`~deadpan.fixes.verify.rerank`).

Every intervention is a fix of the catalogue applied as if its cause had been found, so the search and
``--verify`` run the same code. The search has a wall-time budget (:func:`search_budget`): interventions are
tried in order of the evidence (the causes the checks half-found first, the direction the range test points
next), and it stops at the first clear win or when the next trial would not fit.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from dataclasses import dataclass
from typing import Any

from deadpan.evidence import Evidence
from deadpan.findings import CATEGORIES, Finding, Report, Severity
from deadpan.fixes.base import REGISTRY, Fix, NotApplicable, Setup
from deadpan.fixes.catalog import all_fixes
from deadpan.fixes.control import observed_loop_bugs
from deadpan.fixes.runner import InProcess, Runner, TrialJob
from deadpan.fixes.trial import TrialMetrics
from deadpan.fixes.verify import MAX_CAUSES, Source, Verification, control_for, judge, metric_of, rerank

#: A top cause at this confidence or above is sure enough: no search.
SURE = 0.7
#: A gain of normalised score this large is a clear win: the search stops there.
CLEAR_GAIN = 0.5
#: The budget: the user's own training time, within these bounds (seconds). The floor lets a script that
#: trained for two seconds still get the control and a few interventions.
MIN_BUDGET, MAX_BUDGET = 15.0, 60.0
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
#: Categories that are often the effect of another cause (dead ReLUs after a learning rate too high,
#: saturated units after a bad scale, weights that barely move under a double softmax's tiny gradients): a
#: top cause of these is searched however sure its check is, so that a root it follows from can be found and
#: ranked above it. (A run too short is not: more steps and a larger rate both finish it, and which one
#: the user wants is theirs to say.)
EFFECTS = ("model.dead_units", "model.saturation", "optim.lr_too_low")


def needs_search(report: Report, ev: Evidence | None = None) -> bool:
    """A collapsed or degraded verdict without a cause the checks are sure of, led by an effect, or with a
    loop bug the capture saw that no cause names (``ev``)."""
    if report.verdict not in ("collapsed", "degraded"):
        return False
    if not report.causes:
        return True
    top = report.causes[0]
    unnamed_loop_bug = (
        ev is not None
        and bool(observed_loop_bugs(ev))
        and all(c.category != "train.loop" for c in report.causes)
    )
    return top.confidence < SURE or top.category in EFFECTS or unnamed_loop_bug


def search_budget(step_seconds: list[float], steps: int | None) -> float:
    """Seconds for the search: the user's training time (median step x steps), within the bounds."""
    if not step_seconds or not steps:
        return MAX_BUDGET
    spent = statistics.median(step_seconds) * steps
    return min(MAX_BUDGET, max(MIN_BUDGET, spent))


def _applies(ev: Evidence, iv: Intervention) -> bool:
    """Interventions whose change only makes sense where the evidence shows its target: probabilities into a
    loss that takes logits, a target that broadcasts against the output, a final activation to remove."""
    loss = ev.loss
    if iv.fix == "logits-into-loss":
        return loss is not None and loss.input_rows_are_probabilities
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


def _lr_direction(ev: Evidence, iv: Intervention) -> bool:
    """The range test's rate moves the learning rate in this intervention's direction."""
    rr = ev.probes.lr_range
    if iv.fix != "lr-from-range-test" or rr is None or rr.suggested_lr is None or rr.user_lr is None:
        return iv.fix != "lr-from-range-test"
    lower = rr.suggested_lr < rr.user_lr
    return lower == (iv.category == "optim.lr_too_high")


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


@dataclass
class _Trials:
    """The search as it goes: the control's metrics, each intervention's verification, the seconds spent."""

    control: TrialMetrics | None = None
    tried: list[tuple[Intervention, Verification]] = dataclasses.field(default_factory=list)
    skipped: list[dict[str, str]] = dataclasses.field(default_factory=list)


def search(report: Report, ev: Evidence, pi: Source, budget: float, runner: Runner | None = None) -> Report:
    """``report`` with the causes the winning interventions name added (verified) and re-ranked, and
    ``metrics["search"]`` saying what was tried. Never raises: a failure is recorded in the report."""
    t0 = time.perf_counter()
    runner = runner or InProcess()
    meta: dict[str, Any] = {"budget_seconds": round(budget, 1)}
    try:
        control = control_for(pi, ev, report.findings)
    except NotApplicable as exc:
        return _with_meta(report, {**meta, "not_searched": str(exc)})
    except Exception as exc:
        return _with_meta(report, {**meta, "not_searched": f"the training could not be rebuilt ({exc})"})
    trials = _Trials()
    trials.control = _run(runner, "control", control, budget)
    if trials.control is None:
        return _with_meta(report, {**meta, "not_searched": "the control trial failed"})
    _try_each(report, ev, control, runner, trials, t0, budget)
    meta.update(_described(trials, time.perf_counter() - t0))
    return _ranked(report, ev, trials, meta)


def _run(runner: Runner, key: str, setup: Setup, limit: float) -> TrialMetrics | None:
    outcome = runner.run([TrialJob(key, setup, max(limit, 1.0), key, setup.steps)])[0]
    return outcome.metrics


def _try_each(
    report: Report, ev: Evidence, control: Setup, runner: Runner, trials: _Trials, t0: float, budget: float
) -> None:
    """Train the interventions in order until a cause the checks named is proven by its own fix, one clearly
    wins, or the next would not fit the budget."""
    assert trials.control is not None
    per_trial = trials.control.seconds
    for k, iv in enumerate(ordered(report, ev)):
        fix = REGISTRY[iv.fix]
        try:
            setup = iv.apply(control, ev)
        except Exception as exc:  # NotApplicable, or a fix that cannot take this model
            trials.skipped.append({"fix": fix.name, "category": iv.category, "reason": str(exc)})
            continue
        estimate = per_trial * setup.steps / max(control.steps, 1)
        left = budget - (time.perf_counter() - t0)
        if estimate > left:
            trials.skipped.append({"fix": fix.name, "category": iv.category, "reason": "over the budget"})
            continue
        after = _run(runner, f"intervention-{k}", setup, left)
        verification = _verification(fix, iv, ev, setup, trials.control, after)
        trials.tried.append((iv, verification))
        if verification.improved and iv.findings and iv.category not in EFFECTS:
            return  # a cause the checks named, proven by its own fix: the search confirms, and stops
        if verification.improved and verification.gain >= CLEAR_GAIN:
            return


def _verification(
    fix: Fix, iv: Intervention, ev: Evidence, setup: Setup, before: TrialMetrics, after: TrialMetrics | None
) -> Verification:
    advice = fix.advice(ev, iv.applied_for)
    if after is None:
        return Verification(
            fix.name, fix.title, advice, "failed", setup.steps, before, None, "the trial failed"
        )
    status = judge(before, after)
    short = _short_of_restored(ev, after) if status == "improved" else None
    if short is not None:
        return Verification(fix.name, fix.title, advice, "no_improvement", setup.steps, before, after, short)
    return Verification(fix.name, fix.title, advice, status, setup.steps, before, after)


def _short_of_restored(ev: Evidence, after: TrialMetrics) -> str | None:
    """Why a copy that beat the control is still not a restored model, or None: it must clear the bars the
    verdict itself uses (beat the input-independent answer by ``DEGRADED_SCORE``, and not trail the simple
    models on the same inputs by ``DEGRADED_BEHIND_BASELINE``). A nudge that moves a hopeless model off its
    one answer (a linear model on circles, a tenfold learning rate) names no stage."""
    from deadpan.diagnosis import DEGRADED_BEHIND_BASELINE, DEGRADED_SCORE

    if after.normalized < DEGRADED_SCORE:
        return f"better than the control, but still near the input-independent answer ({after.score:.2f})"
    learn = ev.probes.learnability
    if learn is None:
        return None
    ceiling = learn.normalized(max(learn.linear_score, learn.nonlinear_score))
    if after.normalized < ceiling - DEGRADED_BEHIND_BASELINE:
        return f"better than the control, but far behind simple models on the same inputs ({after.score:.2f})"
    return None


def _described(trials: _Trials, seconds: float) -> dict[str, Any]:
    return {
        "seconds": round(seconds, 2),
        "control": trials.control.to_dict() if trials.control is not None else None,
        "tried": [{"category": iv.category, "fix": v.fix, "status": v.status} for iv, v in trials.tried],
        "not_tried": trials.skipped,
    }


#: A layer whose units are at least this share dead (ReLU) or saturated (sigmoid/tanh) on the probe batch.
MOSTLY = 0.5


def stage_of(iv: Intervention, ev: Evidence) -> str:
    """The category a winning intervention names. A fresh initialisation restores a model whose start was
    wrong in several ways: the evidence says which — weight rows all equal at the start (symmetry), most
    units of a layer dead or saturated (the units), else the scale."""
    if iv.fix != "reinitialize":
        return iv.category
    initial = ev.model.initial_weights if ev.model is not None else ()
    if any(w.fan_out > 1 and w.distinct_rows <= 1.0 / w.fan_out for w in initial):
        return "init.symmetry"
    layers = ev.probes.layers
    if any(layer.dead_fraction >= MOSTLY for layer in layers):
        return "model.dead_units"
    if any(layer.saturated_fraction >= MOSTLY for layer in layers):
        return "model.saturation"
    return iv.category


def _finding(iv: Intervention, v: Verification, strength: float, metric: str) -> Finding:
    """The finding a winning intervention makes: its stage is a cause, with the trial as the evidence."""
    assert v.before is not None and v.after is not None
    return Finding(
        code_of(iv.category),
        "intervention-restored",
        iv.category,
        Severity.ERROR,
        f"on a copy trained from the same start, {v.title} restored learning ({metric} "
        f"{v.before.score:.2f} -> {v.after.score:.2f}, input-independent {v.after.chance_score:.2f}).",
        v.advice,
        evidence={"fix": v.fix, "before": v.before.to_dict(), "after": v.after.to_dict(), "gain": v.gain},
        strength=strength,
    )


def _ranked(report: Report, ev: Evidence, trials: _Trials, meta: dict[str, Any]) -> Report:
    """The report with a finding per winning stage (the best intervention of each), re-ranked: causes a
    winning intervention names first, untried ones next, those whose interventions failed last."""
    from deadpan.diagnosis import rank_causes

    named = [(dataclasses.replace(iv, category=stage_of(iv, ev)), v) for iv, v in trials.tried]
    best: dict[str, tuple[Intervention, Verification]] = {}
    for iv, v in named:
        if v.improved and (iv.category not in best or v.gain > best[iv.category][1].gain):
            best[iv.category] = (iv, v)
    top = max((v.gain for _, v in best.values()), default=1.0)
    strength = {c: 0.5 + 0.45 * max(v.gain, 0.0) / max(top, 1e-9) for c, (_, v) in best.items()}
    found = [_finding(iv, v, strength[c], metric_of(ev)) for c, (iv, v) in best.items()]
    if not found and not rank_causes(report.findings):
        found = [f for f in (_what_remains(ev, trials),) if f is not None]
    findings = (*report.findings, *found)
    causes = rank_causes(findings)
    results: dict[int, list[Verification]] = {}
    for i, cause in enumerate(causes):
        results[i] = [v for iv, v in named if iv.category == cause.category]
    updated = dataclasses.replace(report, findings=findings, causes=tuple(causes))
    return rerank(updated, {i: vs for i, vs in results.items() if vs}, metric_of(ev), meta, key="search")


#: Interventions tried, at the least, before what none of them restored says something.
MIN_TRIED = 3
#: Strength of that finding: evidence by elimination, below any check's or winning trial's.
STRENGTH_REMAINS = 0.35


def _what_remains(ev: Evidence, trials: _Trials) -> Finding | None:
    """When no check named a cause and no intervention restored learning: by elimination, the stage left.
    Simple models finding signal in the inputs leave the model's architecture (``model.capacity``); finding
    none leaves the data (``data.no_signal``). None without the learnability probe or enough trials."""
    learn = ev.probes.learnability
    if learn is None or len(trials.tried) < MIN_TRIED:
        return None
    tried = ", ".join(v.title for _, v in trials.tried)
    signal = learn.signal_gap() >= learn.noise_gap()
    category = "model.capacity" if signal else "data.no_signal"
    best = max(learn.linear_score, learn.nonlinear_score)
    found = (
        f"simple models find signal in these inputs ({learn.metric} {best:.2f}), "
        "so what remains is the model's architecture: what it can compute, or how its output is connected "
        "to its input"
        if signal
        else "simple models find no signal in these inputs either, so what remains is the data"
    )
    return Finding(
        code_of(category),
        "no-intervention-restored",
        category,
        Severity.WARNING,
        f"no check named a cause, and no intervention restored learning on a copy ({tried}); {found}.",
        "inspect the model's forward pass (is the input used all the way to the output?) and its capacity"
        if signal
        else "check that the targets belong to their inputs and carry information about them",
        evidence={"tried": [v.fix for _, v in trials.tried], "signal_gap": learn.signal_gap()},
        strength=STRENGTH_REMAINS,
    )


def _with_meta(report: Report, meta: dict[str, Any]) -> Report:
    metrics = dict(report.metrics)
    metrics["search"] = meta
    return dataclasses.replace(report, metrics=metrics)
