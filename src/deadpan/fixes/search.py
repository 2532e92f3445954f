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
from deadpan.fixes import catalog  # noqa: F401  (registers the fixes the interventions use)
from deadpan.fixes.base import REGISTRY, Fix, NotApplicable, Setup
from deadpan.fixes.runner import InProcess, Runner, TrialJob
from deadpan.fixes.trial import TrialMetrics
from deadpan.fixes.verify import Source, Verification, control_for, judge, metric_of, rerank

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
    """A catalogue fix applied as if a cause of ``category`` had been found."""

    category: str
    fix: str

    @property
    def stand_in(self) -> Finding:
        """The finding the fix is applied for (it reads the direction of a learning-rate change from it)."""
        return Finding(code_of(self.category), "intervention", self.category, Severity.WARNING, "", "")

    def apply(self, control: Setup, ev: Evidence) -> Setup:
        return REGISTRY[self.fix].apply_to(control, ev, (self.stand_in,))


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
    Intervention("train.over_regularized", "lighter-regularization"),
    Intervention("model.saturation", "relu-activations"),
    Intervention("optim.lr_too_low", "scale-lr"),
    Intervention("train.too_short", "more-steps"),
)


def needs_search(report: Report) -> bool:
    """A collapsed or degraded verdict without a cause the checks are sure of."""
    if report.verdict not in ("collapsed", "degraded"):
        return False
    return not report.causes or report.causes[0].confidence < SURE


def search_budget(step_seconds: list[float], steps: int | None) -> float:
    """Seconds for the search: the user's training time (median step x steps), within the bounds."""
    if not step_seconds or not steps:
        return MAX_BUDGET
    spent = statistics.median(step_seconds) * steps
    return min(MAX_BUDGET, max(MIN_BUDGET, spent))


def _lr_direction(ev: Evidence, iv: Intervention) -> bool:
    """The range test's rate moves the learning rate in this intervention's direction."""
    rr = ev.probes.lr_range
    if iv.fix != "lr-from-range-test" or rr is None or rr.suggested_lr is None or rr.user_lr is None:
        return iv.fix != "lr-from-range-test"
    lower = rr.suggested_lr < rr.user_lr
    return lower == (iv.category == "optim.lr_too_high")


def ordered(report: Report, ev: Evidence) -> list[Intervention]:
    """The interventions to try, the categories of the causes the checks found first (in their rank), the
    rest in :data:`INTERVENTIONS` order; a range-test rate only in the direction the test points."""
    usable = [iv for iv in INTERVENTIONS if iv.fix in REGISTRY and _lr_direction(ev, iv)]
    rank = {c.category: i for i, c in enumerate(report.causes)}
    return sorted(usable, key=lambda iv: rank.get(iv.category, len(rank)))


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
    """Train the interventions in order until one clearly wins or the next would not fit the budget."""
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
        trials.tried.append((iv, _verification(fix, iv, ev, setup, trials.control, after)))
        if (
            after is not None
            and not after.collapsed
            and after.normalized - trials.control.normalized >= CLEAR_GAIN
        ):
            return


def _verification(
    fix: Fix, iv: Intervention, ev: Evidence, setup: Setup, before: TrialMetrics, after: TrialMetrics | None
) -> Verification:
    advice = fix.advice(ev, (iv.stand_in,))
    if after is None:
        return Verification(
            fix.name, fix.title, advice, "failed", setup.steps, before, None, "the trial failed"
        )
    return Verification(fix.name, fix.title, advice, judge(before, after), setup.steps, before, after)


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

    best: dict[str, tuple[Intervention, Verification]] = {}
    for iv, v in trials.tried:
        if v.improved and (iv.category not in best or v.gain > best[iv.category][1].gain):
            best[iv.category] = (iv, v)
    top = max((v.gain for _, v in best.values()), default=1.0)
    strength = {c: 0.5 + 0.45 * max(v.gain, 0.0) / max(top, 1e-9) for c, (_, v) in best.items()}
    found = [_finding(iv, v, strength[c], metric_of(ev)) for c, (iv, v) in best.items()]
    findings = (*report.findings, *found)
    causes = rank_causes(findings)
    results: dict[int, list[Verification]] = {}
    for i, cause in enumerate(causes):
        results[i] = [v for iv, v in trials.tried if iv.category == cause.category]
    updated = dataclasses.replace(report, findings=findings, causes=tuple(causes))
    return rerank(updated, {i: vs for i, vs in results.items() if vs}, metric_of(ev), meta, key="search")


def _with_meta(report: Report, meta: dict[str, Any]) -> Report:
    metrics = dict(report.metrics)
    metrics["search"] = meta
    return dataclasses.replace(report, metrics=metrics)
