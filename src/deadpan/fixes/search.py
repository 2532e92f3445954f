"""Differential diagnosis by intervention: when a broken run has no cause the checks are sure of, try generic
changes of every stage of the pipeline on copies and keep the ones that restore learning.

The checks are a catalogue of named faults; a fault nobody named shows its symptom (one answer for every
input) and nothing else. The search asks the training itself: from the same start, for the same budget, it
trains the control (the run as the user ran it, :mod:`deadpan.fixes.control`) and copies that each change one
stage — the loop, the loss input, the output head, the learning rate down or up (the range test's rate, or
tenfold), a fresh initialisation, standardised inputs, resampled classes, no regularisation, ReLU hidden
units, more steps. A copy that restores learning (:func:`_short_of_restored`) names its stage as a cause,
marked verified, with the before/after scores as its evidence; interventions that change nothing lower the
causes of their stage (:func:`~deadpan.fixes.verify.rerank`).

Every intervention is a fix of the catalogue, so the search and ``--verify`` run the same code. The search
has a wall-time budget (:func:`search_budget`). It tries the loop, loss and output first where the evidence
shows their target (a learning rate or more steps can compensate for them), then the fixes of the causes the
checks half-found, then the rest; it stops at a clear win, when a cause the checks named is proven by its own
fix, or when the next trial would not fit.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from dataclasses import dataclass
from typing import Any

from deadpan.evidence import Evidence
from deadpan.findings import Finding, Report, Severity
from deadpan.fixes.base import REGISTRY, Fix, NotApplicable, Setup
from deadpan.fixes.control import observed_loop_bugs
from deadpan.fixes.interventions import Intervention, code_of, ordered, stage_of
from deadpan.fixes.runner import InProcess, Runner, TrialJob, TrialOutcome
from deadpan.fixes.trial import TrialMetrics
from deadpan.fixes.verify import Source, Verification, control_for, judge, metric_of, rerank

#: A top cause at this confidence or above is sure enough: no search.
SURE = 0.7
#: A gain of normalised score this large is a clear win: the search stops there.
CLEAR_GAIN = 0.5
#: The budget: the user's own training time, within these bounds (seconds). The floor lets a script that
#: trained for two seconds still get the control and a few interventions.
MIN_BUDGET, MAX_BUDGET = 15.0, 60.0
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


def search_budget(step_seconds: list[float], steps: int | None, trial_steps: int = 0) -> float:
    """Seconds for the search: the user's training time (median step x steps), or the time the control and
    ``MIN_TRIED`` interventions of ``trial_steps`` take at the user's step time when that is longer (a run
    of a few slow steps, whose trials are longer than it), within the bounds."""
    if not step_seconds or not steps:
        return MAX_BUDGET
    step = statistics.median(step_seconds)
    spent = max(step * steps, step * trial_steps * (1 + MIN_TRIED))
    return min(MAX_BUDGET, max(MIN_BUDGET, spent))


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
    outcome = _run(runner, "control", control, budget)
    trials.control = outcome.metrics
    if trials.control is None:
        why = f"the control trial failed: {outcome.error}" if outcome.error else "the control trial failed"
        return _with_meta(report, {**meta, "not_searched": why})
    _try_each(report, ev, control, runner, trials, t0, budget)
    meta.update(_described(trials, time.perf_counter() - t0))
    return _ranked(report, ev, trials, meta)


def _run(runner: Runner, key: str, setup: Setup, limit: float) -> TrialOutcome:
    return runner.run([TrialJob(key, setup, max(limit, 1.0), key, setup.steps)])[0]


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
        after = _run(runner, f"intervention-{k}", setup, left).metrics
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
    none, or having no rows they can be scored on at all (one target value, too few distinct rows), leave the
    data (``data.no_signal``). None with too few trials, or for a sequence model (no per-row probe)."""
    learn = ev.probes.learnability
    sequence = ev.task is not None and ev.task.positions > 1
    if len(trials.tried) < MIN_TRIED or (learn is None and (ev.data is None or sequence)):
        return None
    tried = ", ".join(v.title for _, v in trials.tried)
    signal = learn is not None and learn.signal_gap() >= learn.noise_gap()
    category = "model.capacity" if signal else "data.no_signal"
    if learn is None:
        found = (
            "the captured rows cannot even be scored by simple models (one target value, or too few "
            "distinct input and target rows), so what remains is the data"
        )
    elif signal:
        found = (
            f"simple models find signal in these inputs ({learn.metric} "
            f"{max(learn.linear_score, learn.nonlinear_score):.2f}), so what remains is the model's "
            "architecture: what it can compute, or how its output is connected to its input"
        )
    else:
        found = "simple models find no signal in these inputs either, so what remains is the data"
    return Finding(
        code_of(category),
        "no-intervention-restored",
        category,
        Severity.WARNING,
        f"no check named a cause, and no intervention restored learning on a copy ({tried}); {found}.",
        "inspect the model's forward pass (is the input used all the way to the output?) and its capacity"
        if signal
        else "check that the inputs vary and that the targets belong to their inputs and carry information "
        "about them",
        evidence={
            "tried": [v.fix for _, v in trials.tried],
            "signal_gap": learn.signal_gap() if learn is not None else None,
        },
        strength=STRENGTH_REMAINS,
    )


def _with_meta(report: Report, meta: dict[str, Any]) -> Report:
    metrics = dict(report.metrics)
    metrics["search"] = meta
    return dataclasses.replace(report, metrics=metrics)
