"""Does the top verified fix restore the model? ``deadpan bench verify`` on the built-in broken scenarios.

Each broken PyTorch and Keras scenario runs under ``deadpan run``'s capture with ``--verify``. Its *top
verified fix* is the fix of the highest-ranked cause whose trial improved on the control. The scenario
counts as *restored* when that fixed copy is not collapsed and reaches :data:`RESTORED_SHARE` of its healthy
twin's score.

The twin is the scenario's own training with its one fault removed (the scenario function run with
``fault=False``: the same data, model, optimizer and epochs). A fix can only be asked to undo its fault, not
to make the user's recipe better than it is without the fault, so the twin is that recipe. Its score is its
own control trial's, measured by the same trial machinery (its captured batches, its budget, its held-out
rows), so both sides of the comparison are short trials judged the same way. A twin that is not diagnosed
healthy makes its scenario a miss: the scenario has a second fault (a test checks the PyTorch twins too).

Scenarios with no twin, or whose fault no trial can undo (noise labels, inputs zeroed before the capture),
are listed with the reason and not counted.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from deadpan.fixes.runner import Runner

#: Share of the healthy twin's score a fixed copy must reach to count as restored.
RESTORED_SHARE = 0.9

#: Why a broken scenario is not counted, by category (scenarios with no twin) ...
NOT_COUNTED = {
    "data.no_signal": "the targets carry no signal: no change to the training can restore them",
    "data.labels": "the labels are broken: the fix is in the data, which a trial cannot repair",
    "data.diversity": "too few distinct examples: the fix is more data",
    "train.overfit": "no healthy twin: the training without the fault is the regularised fix itself",
    "data.imbalance": "no healthy twin on the same data (its balanced version is a different data set)",
}
#: ... and by name (scenarios with a twin whose fault no trial can undo).
NOT_COUNTED_SCENARIOS = {
    "zero-inputs-integer-division": "the inputs reached the model as zeros: the information was lost before "
    "the capture and the fix is in the data pipeline",
}


@dataclass(frozen=True)
class ScenarioOutcome:
    name: str
    category: str
    twin: str | None
    top_cause: str | None
    #: The top verified fix: its name, its cause, the fixed copy's score, collapsed or not.
    fix: str | None = None
    fix_cause: str | None = None
    score: float | None = None
    collapsed: bool | None = None
    twin_score: float | None = None
    restored: bool = False
    #: The verified fixes of all improved causes applied together (when two or more improved): its score and
    #: whether that restores the model.
    combined_score: float | None = None
    combined_restored: bool = False
    counted: bool = True
    reason: str | None = None
    seconds: float = 0.0
    framework: str = "torch"


class UnhealthyTwin(Exception):
    """The scenario's training without its fault is not diagnosed healthy: the scenario has a second fault,
    and its twin is no yardstick."""


def _twin_score(name: str) -> float:
    """The healthy twin's control-trial score; raise :class:`UnhealthyTwin` when the twin is not healthy."""
    from deadpan.fixes.runner import train_trial
    from deadpan.fixes.verify import control_for
    from deadpan.scenarios.registry import get
    from deadpan.script.autolog import run_callable

    twin = get(name).twin
    if twin is None:
        raise ValueError(f"{name} has no healthy twin")
    result = run_callable(twin)
    if result.inputs is None or result.evidence is None:
        raise RuntimeError(f"{name}: no capture of its twin")
    if result.report.verdict != "healthy":
        raise UnhealthyTwin(f"its twin is not healthy ({result.report.verdict}: {result.report.top_cause})")
    setup = control_for(result.inputs, result.evidence, result.report.findings)
    return train_trial(setup).score


def run_scenario(name: str, runner: Runner) -> ScenarioOutcome:
    from deadpan.fixes.options import VerifyOptions
    from deadpan.scenarios.registry import get
    from deadpan.script.autolog import run_callable

    sc = get(name)
    category = sc.expected or "healthy"
    why = NOT_COUNTED_SCENARIOS.get(name)
    if sc.twin is None or why is not None:
        why = why or NOT_COUNTED.get(category, "no healthy twin")
        return ScenarioOutcome(name, category, None, None, counted=False, reason=why, framework=sc.framework)
    twin = f"{name} with fault=False"
    t0 = time.perf_counter()
    try:
        twin_score = _twin_score(name)
    except UnhealthyTwin as exc:  # counted, and a miss: the benchmark's own scenario is at fault
        return ScenarioOutcome(name, category, twin, None, reason=str(exc), framework=sc.framework)
    report = run_callable(sc.train, verify=VerifyOptions(runner=runner, progress=False)).report
    seconds = time.perf_counter() - t0
    top = next((c for c in report.causes if c.verified and c.verified.get("improved")), None)
    if top is None or top.verified is None:
        return ScenarioOutcome(
            name,
            category,
            twin,
            report.top_cause,
            twin_score=twin_score,
            reason="no fix verified",
            seconds=seconds,
            framework=sc.framework,
        )
    after = top.verified["after"]
    restored = not after["collapsed"] and after["score"] >= RESTORED_SHARE * twin_score
    combined = report.metrics.get("verification", {}).get("combined") or {}
    c_after: dict[str, Any] = combined.get("after") or {} if combined.get("improved") else {}
    c_score = c_after.get("score")
    c_restored = (
        bool(c_after) and not c_after["collapsed"] and c_after["score"] >= RESTORED_SHARE * twin_score
    )
    return ScenarioOutcome(
        name,
        category,
        twin,
        report.top_cause,
        fix=top.verified["fix"],
        fix_cause=top.category,
        score=after["score"],
        collapsed=after["collapsed"],
        twin_score=twin_score,
        restored=restored,
        combined_score=c_score,
        combined_restored=restored or c_restored,
        seconds=seconds,
        framework=sc.framework,
    )


def run(runner: Runner, names: list[str] | None = None, framework: str = "torch") -> list[ScenarioOutcome]:
    """Every broken scenario of ``framework`` ("torch", "keras" or "all"), or those in ``names``."""
    from deadpan.scenarios.registry import all_scenarios

    chosen = [s.name for s in all_scenarios(None if framework == "all" else framework) if not s.healthy]
    if names:
        chosen = [n for n in chosen if n in names]
    return [run_scenario(n, runner) for n in chosen]


def summary(outcomes: list[ScenarioOutcome]) -> dict[str, Any]:
    counted = [o for o in outcomes if o.counted]
    per: dict[str, dict[str, int]] = {}
    for o in counted:
        row = per.setdefault(o.category, {"n": 0, "restored": 0})
        row["n"] += 1
        row["restored"] += int(o.restored)
    return {
        "restored_share": RESTORED_SHARE,
        "n": len(counted),
        "restored": sum(o.restored for o in counted),
        "fraction": sum(o.restored for o in counted) / len(counted) if counted else None,
        #: Restored by the top verified fix, or by all verified fixes applied together.
        "restored_with_combined": sum(o.combined_restored for o in counted),
        "per_category": per,
        "per_framework": {
            fw: {"n": len(rows), "restored": sum(o.restored for o in rows)}
            for fw in sorted({o.framework for o in counted})
            if (rows := [o for o in counted if o.framework == fw])
        },
        "scenarios": [asdict(o) for o in outcomes],
    }
