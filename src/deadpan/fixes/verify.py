"""Verify the diagnosis: train the fix of each top cause next to the control, then re-rank.

For each of the first :data:`MAX_CAUSES` causes, every fix that answers it is applied to a copy of the control
setup (a PyTorch :class:`~deadpan.fixes.base.TrialSetup`, or a Keras
:class:`~deadpan.fixes.keras_trial.KerasTrialSetup`, which trials in this process). The control and the
fixed copies train for the same budget and seed (:mod:`deadpan.fixes.trial`) and are judged on the same
held-out batches. A fix is *improved* only when its copy beats the control by
:data:`MIN_GAIN` of normalized score (balanced accuracy or R^2, chance 0, perfect 1) and is not collapsed:
a fix that changes nothing can never be reported as verified.

Re-ranking: causes whose fix improved come first, then causes with no trial (or none that could run), then
causes whose fix was tried and did not help; the order within each group is the diagnosis's. A larger gain
does not reorder two verified causes: a fix that compensates for the root cause (a larger learning rate
against the tiny gradients of a double softmax) can gain more in a short trial than the root cause's own fix.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from deadpan.capture.probe_inputs import ProbeInputs
from deadpan.diagnosis import score_name, summary_of
from deadpan.evidence import Evidence
from deadpan.findings import Cause, Finding, Report
from deadpan.fixes.base import Fix, NotApplicable, Setup, TrialSetup
from deadpan.fixes.catalog import all_fixes
from deadpan.fixes.control import control_setup, describe
from deadpan.fixes.runner import InProcess, Progress, Runner, TrialJob, TrialOutcome
from deadpan.fixes.trial import TrialMetrics

#: Causes whose fixes are trialled (the ones a user reads).
MAX_CAUSES = 3
#: Normalized-score gain over the control that counts as an improvement: a tenth of the way from the
#: input-independent answer to a perfect one. Smaller gains are within seed-to-seed noise of short runs.
MIN_GAIN = 0.1
#: Seconds one trial may run before it is stopped and recorded as failed.
TIME_LIMIT = 120.0


@dataclass(frozen=True)
class Verification:
    """One fix trial's result, as the report's ``verified`` entry."""

    fix: str
    title: str
    advice: str
    status: str  # "improved" | "no_improvement" | "not_verifiable" | "failed"
    budget: int | None = None
    before: TrialMetrics | None = None
    after: TrialMetrics | None = None
    reason: str | None = None

    @property
    def improved(self) -> bool:
        return self.status == "improved"

    @property
    def gain(self) -> float:
        if self.before is None or self.after is None:
            return float("-inf")
        return self.after.normalized - self.before.normalized

    def headline(self, metric: str) -> str:
        """ "distinct predictions 1 -> 10, balanced accuracy 0.10 -> 0.91 in 200 steps"."""
        if self.before is None or self.after is None:
            return f"not verifiable: {self.reason}" if self.status == "not_verifiable" else f"{self.reason}"
        parts = []
        if metric in CLASS_SCORES:
            b, a = self.before.distinct_predictions, self.after.distinct_predictions
            parts.append(f"distinct predictions {b} -> {a}")
        parts.append(f"{metric} {self.before.score:.2f} -> {self.after.score:.2f}")
        return f"{self.title}: {', '.join(parts)} in {self.after.steps} steps"

    def to_dict(self, metric: str) -> dict[str, Any]:
        return {
            "fix": self.fix,
            "title": self.title,
            "advice": self.advice,
            "status": self.status,
            "improved": self.improved,
            "budget": self.budget,
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None,
            "reason": self.reason,
            "headline": self.headline(metric),
        }


#: Scores of a classifier, whose trials also count the distinct predictions.
CLASS_SCORES = ("balanced accuracy", "cross-entropy skill")


def metric_of(ev: Evidence) -> str:
    """The name of the score the trials of this run are judged by (:func:`~deadpan.diagnosis.score_name`)."""
    return score_name(ev.task) if ev.task is not None else "balanced accuracy"


def judge(before: TrialMetrics, after: TrialMetrics) -> str:
    """ "improved" when the fixed copy beats the control by MIN_GAIN and is not collapsed."""
    if after.collapsed or after.normalized - before.normalized < MIN_GAIN:
        return "no_improvement"
    return "improved"


@dataclass(frozen=True)
class PlannedTrial:
    #: Index of the cause in the report.
    cause: int
    fix: Fix
    findings: tuple[Finding, ...]
    #: The fixed setup, or None with the reason the fix does not apply.
    setup: Setup | None
    reason: str | None = None


@dataclass(frozen=True)
class Plan:
    control: Setup | None
    #: Why there is no control (then nothing is verifiable).
    reason: str | None
    trials: list[PlannedTrial]


#: What a trial is rebuilt from: a PyTorch run's probe inputs, or a Keras run.
Source = Any


def control_for(source: Source, ev: Evidence, findings: tuple[Finding, ...], seed: int = 0) -> Setup:
    """The control setup of a PyTorch or a Keras run; raise :class:`NotApplicable` when it cannot be
    rebuilt."""
    if isinstance(source, ProbeInputs):
        return control_setup(source, ev, findings, seed)
    from deadpan.fixes.keras_trial import keras_control_setup

    return keras_control_setup(source, ev, findings, seed)


def plan(report: Report, ev: Evidence, pi: Source, fixes: Sequence[Fix] | None = None, seed: int = 0) -> Plan:
    """The control and the fixed setups for the top causes."""
    by_code: dict[str, Finding] = {f.code: f for f in report.findings}
    try:
        control = control_for(pi, ev, report.findings, seed)
    except NotApplicable as exc:
        return Plan(None, str(exc), [])
    except Exception as exc:
        return Plan(None, f"deadpan could not rebuild the training ({type(exc).__name__}: {exc})", [])
    trials: list[PlannedTrial] = []
    for i, cause in enumerate(report.causes[:MAX_CAUSES]):
        if _already_verified(cause):
            continue  # the intervention search proved it (deadpan.fixes.search)
        findings = tuple(by_code[c] for c in cause.findings if c in by_code)
        for fix in fixes if fixes is not None else all_fixes():
            if not fix.answers(cause.category, findings):
                continue
            try:
                trials.append(PlannedTrial(i, fix, findings, fix.apply_to(control, ev, findings)))
            except NotApplicable as exc:
                trials.append(PlannedTrial(i, fix, findings, None, str(exc)))
            except Exception as exc:
                why = f"the fix failed to apply ({type(exc).__name__}: {exc})"
                trials.append(PlannedTrial(i, fix, findings, None, why))
    return Plan(control, None, trials)


def _outcomes(
    jobs: list[TrialJob], runner: Runner, progress: Progress | None
) -> tuple[dict[str, TrialOutcome], Runner]:
    """Run the jobs; a runner that cannot take them (a setup that will not pickle for a pool or Ray) falls
    back to this process, where nothing is pickled."""
    try:
        return {o.key: o for o in runner.run(jobs, progress)}, runner
    except Exception:
        fallback = InProcess()
        return {o.key: o for o in fallback.run(jobs, progress)}, fallback


def verify(
    report: Report,
    ev: Evidence,
    pi: Source,
    runner: Runner | None = None,
    fixes: Sequence[Fix] | None = None,
    progress: Progress | None = None,
    time_limit: float = TIME_LIMIT,
    on_plan: Callable[[list[TrialJob]], None] | None = None,
) -> Report:
    """``report`` with each top cause's ``verified`` filled in, re-ranked, and its summary naming the verified
    fix. Never raises: a failure is recorded in the report."""
    if report.verdict not in ("collapsed", "degraded") or not report.causes:
        return report
    t0 = time.perf_counter()
    runner = runner or InProcess()
    p = plan(report, ev, pi, fixes)
    metric = metric_of(ev)
    results: dict[int, list[Verification]] = {}
    control_metrics: TrialMetrics | None = None
    outcomes: dict[str, TrialOutcome] = {}
    meta: dict[str, Any] = {"runner": runner.where}
    if p.control is None:
        meta["not_verifiable"] = p.reason
    else:
        if isinstance(p.control, TrialSetup):
            meta["control"] = describe(p.control)
        else:
            from deadpan.fixes.keras_trial import describe_keras

            # Keras trials run here: a worker would import Keras and its backend again for each trial.
            runner = InProcess()
            meta["control"] = describe_keras(p.control)
        step = _step_seconds(pi)

        def cost(steps: int) -> float | None:
            return None if step is None else step * steps

        c = p.control
        jobs = [TrialJob("control", c, time_limit, "control", c.steps, cost(c.steps))]
        jobs += [
            TrialJob(f"trial-{k}", t.setup, time_limit, t.fix.title, t.setup.steps, cost(t.setup.steps))
            for k, t in enumerate(p.trials)
            if t.setup is not None
        ]
        if on_plan is not None:
            on_plan(jobs)
        outcomes, used = _outcomes(jobs, runner, progress)
        meta["runner"] = used.where
        control = outcomes.get("control")
        control_metrics = control.metrics if control is not None else None
        if control is not None and control.metrics is None:
            meta["control_error"] = control.error
    for k, t in enumerate(p.trials):
        v = _verification(
            t,
            outcomes.get(f"trial-{k}") if p.control is not None else None,
            control_metrics,
            ev,
            meta.get("control_error"),
        )
        results.setdefault(t.cause, []).append(v)
    if p.control is not None and control_metrics is not None:
        combined = _combined(p, results, ev, runner, time_limit, control_metrics, metric)
        if combined is not None:
            meta["combined"] = combined
    meta["seconds"] = round(time.perf_counter() - t0, 2)
    return rerank(report, results, metric, meta)


def _combined(
    p: Plan,
    results: dict[int, list[Verification]],
    ev: Evidence,
    runner: Runner,
    time_limit: float,
    control: TrialMetrics,
    metric: str,
) -> dict[str, Any] | None:
    """When the fixes of two or more causes each improved on the control, one more trial with all of them
    applied together (the best fix of each cause, in rank order): a user fixes every verified cause, and two
    fixes can need each other (the logits of a double softmax still learn slowly at a learning rate too low).
    None when fewer than two causes improved or the combination cannot be built."""
    chosen: list[PlannedTrial] = []
    for i in sorted(results):
        best = _best(results[i])
        if best.improved:
            chosen += [t for t in p.trials if t.cause == i and t.fix.name == best.fix][:1]
    if len(chosen) < 2 or p.control is None:
        return None
    setup = p.control
    applied = []
    for t in chosen:
        try:
            setup = t.fix.apply_to(setup, ev, t.findings)
            applied.append(t)
        except Exception:
            continue
    if len(applied) < 2:
        return None
    job = TrialJob("combined", setup, time_limit, "all verified fixes", setup.steps)
    outcome = _outcomes([job], runner, None)[0]["combined"]
    names = [t.fix.name for t in applied]
    if outcome.metrics is None:
        return {"fixes": names, "status": "failed", "reason": outcome.error}
    title = " + ".join(t.fix.title for t in applied)
    v = Verification(
        "+".join(names), title, "", judge(control, outcome.metrics), setup.steps, control, outcome.metrics
    )
    out = v.to_dict(metric)
    out["fixes"] = names
    return out


def user_step_seconds(pi: Source) -> list[float]:
    """The user's training step times, as deadpan timed them (a PyTorch recorder's, or a Keras run's)."""
    if isinstance(pi, ProbeInputs):
        return list(pi.recorder.step_seconds) if pi.recorder is not None else []
    return list(getattr(pi, "step_seconds", []))


def _step_seconds(pi: Source) -> float | None:
    """The user's median training step time, when deadpan timed their steps."""
    times = user_step_seconds(pi)
    return float(statistics.median(times)) if times else None


def _verification(
    t: PlannedTrial,
    outcome: TrialOutcome | None,
    control: TrialMetrics | None,
    ev: Evidence,
    control_error: str | None = None,
) -> Verification:
    def made(status: str, **kw: Any) -> Verification:
        return Verification(t.fix.name, t.fix.title, t.fix.advice(ev, t.findings), status, **kw)

    if t.setup is None:
        return made("not_verifiable", reason=t.reason)
    if control is None:
        failed = f"the control trial failed ({control_error})" if control_error else None
        return made("not_verifiable", reason=failed or "the control trial did not run")
    if outcome is None or outcome.metrics is None:
        why = outcome.error if outcome is not None else "the trial did not run"
        return made("failed", budget=t.setup.steps, before=control, reason=why)
    return made(judge(control, outcome.metrics), budget=t.setup.steps, before=control, after=outcome.metrics)


def _already_verified(cause: Cause) -> bool:
    return cause.verified is not None and bool(cause.verified.get("improved"))


def _best(vs: list[Verification]) -> Verification:
    order = {"improved": 0, "no_improvement": 1, "failed": 2, "not_verifiable": 3}
    return min(vs, key=lambda v: (order[v.status], -v.gain))


def rerank(
    report: Report,
    results: dict[int, list[Verification]],
    metric: str,
    meta: dict[str, Any],
    key: str = "verification",
) -> Report:
    """Attach each cause's best verification and order the causes: improved, untried, not helped; ``meta``
    goes to ``report.metrics[key]``."""
    causes: list[tuple[int, float, int, Cause]] = []
    for i, cause in enumerate(report.causes):
        vs = results.get(i)
        if not vs:
            causes.append((0 if _already_verified(cause) else 1, 0.0, i, cause))
            continue
        best = _best(vs)
        entry = best.to_dict(metric)
        entry["trials"] = [v.to_dict(metric) for v in vs]
        updated = dataclasses.replace(cause, verified=entry)
        if best.improved:
            causes.append((0, 0.0, i, updated))
        elif best.status == "no_improvement":
            causes.append((2, 0.0, i, updated))
        else:
            causes.append((1, 0.0, i, updated))
    ranked = tuple(c for *_, c in sorted(causes, key=lambda t: (t[0], t[1], t[2])))
    metrics = dict(report.metrics)
    metrics[key] = meta
    summary = summary_of(report.verdict, report.symptom, ranked) if report.symptom else report.summary
    return dataclasses.replace(report, causes=ranked, summary=summary, metrics=metrics)
