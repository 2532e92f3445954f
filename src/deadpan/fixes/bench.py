"""Does the top verified fix restore the model? ``deadpan bench verify`` on the built-in broken scenarios.

Each broken PyTorch scenario runs under ``deadpan run``'s capture with ``--verify``. Its *top verified fix*
is the fix of the highest-ranked cause whose trial improved on the control. The scenario counts as
*restored* when that fixed copy is not collapsed and reaches :data:`RESTORED_SHARE` of its healthy twin's
score. The twin is the built-in healthy training on the same data (digits, diabetes, breast cancer); its score
is its own control trial's, measured by the same trial machinery (its captured batches, its budget, its
held-out rows), so both sides of the comparison are short trials judged the same way.

Scenarios with no twin on the same data, or whose category has no fix in the catalog (noise labels cannot be
fixed by training differently), are listed with the reason and not counted.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from deadpan.fixes.runner import Runner

#: Share of the healthy twin's score a fixed copy must reach to count as restored.
RESTORED_SHARE = 0.9

#: The healthy training on the same data, per broken scenario.
TWINS = {
    "zero-inputs-integer-division": "healthy-digits",
    "unscaled-inputs": "healthy-digits",
    "relu-regression-head": "healthy-regression",
    "softmax-one-unit": "healthy-binary",
    "dead-relu-bias": "healthy-digits",
    "saturated-tanh": "healthy-digits",
    "zero-init": "healthy-digits",
    "constant-init": "healthy-digits",
    "huge-init": "healthy-digits",
    "softmax-into-cross-entropy": "healthy-digits",
    "mse-broadcast": "healthy-regression",
    "lr-too-high": "healthy-digits",
    "lr-too-low": "healthy-digits",
    "zero-grad-missing": "healthy-digits",
    "loss-detached": "healthy-digits",
    "same-batch-every-step": "healthy-digits",
    "too-short": "healthy-digits",
    "weight-decay-collapse": "healthy-digits",
    "linear-model-circles": "healthy-circles",
    "linear-stack-circles": "healthy-circles",
}
#: Why the other broken scenarios are not counted.
NOT_COUNTED = {
    "data.no_signal": "the targets carry no signal: no change to the training can restore them",
    "data.labels": "the labels are broken: the fix is in the data, which a trial cannot repair",
    "data.diversity": "too few distinct examples: the fix is more data",
    "train.overfit": "no fix in the catalog yet (regularisation)",
    "data.imbalance": "no healthy twin on the same data (its balanced version is a different data set)",
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


def _twin_score(name: str) -> float:
    """The healthy twin's control-trial score."""
    from deadpan.capture.autolog import run_callable
    from deadpan.fixes.control import control_setup
    from deadpan.fixes.trial import train_trial
    from deadpan.scenarios.registry import get

    result = run_callable(get(name).train)
    if result.inputs is None or result.evidence is None:
        raise RuntimeError(f"{name}: no PyTorch capture")
    setup = control_setup(result.inputs, result.evidence, result.report.findings)
    return train_trial(setup).score


def run_scenario(name: str, runner: Runner, twins: dict[str, float]) -> ScenarioOutcome:
    from deadpan.capture.autolog import run_callable
    from deadpan.fixes.options import VerifyOptions
    from deadpan.scenarios.registry import get

    sc = get(name)
    category = sc.expected or "healthy"
    twin = TWINS.get(name)
    if twin is None:
        why = NOT_COUNTED.get(category, "no healthy twin on the same data")
        return ScenarioOutcome(name, category, None, None, counted=False, reason=why)
    t0 = time.perf_counter()
    if twin not in twins:
        twins[twin] = _twin_score(twin)
    report = run_callable(sc.train, verify=VerifyOptions(runner=runner, progress=False)).report
    seconds = time.perf_counter() - t0
    top = next((c for c in report.causes if c.verified and c.verified.get("improved")), None)
    if top is None or top.verified is None:
        return ScenarioOutcome(
            name,
            category,
            twin,
            report.top_cause,
            twin_score=twins[twin],
            reason="no fix verified",
            seconds=seconds,
        )
    after = top.verified["after"]
    restored = not after["collapsed"] and after["score"] >= RESTORED_SHARE * twins[twin]
    combined = report.metrics.get("verification", {}).get("combined") or {}
    c_after: dict[str, Any] = combined.get("after") or {} if combined.get("improved") else {}
    c_score = c_after.get("score")
    c_restored = (
        bool(c_after) and not c_after["collapsed"] and c_after["score"] >= RESTORED_SHARE * twins[twin]
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
        twin_score=twins[twin],
        restored=restored,
        combined_score=c_score,
        combined_restored=restored or c_restored,
        seconds=seconds,
    )


def run(runner: Runner, names: list[str] | None = None) -> list[ScenarioOutcome]:
    from deadpan.scenarios.registry import all_scenarios

    chosen = [s.name for s in all_scenarios("torch") if not s.healthy]
    if names:
        chosen = [n for n in chosen if n in names]
    twins: dict[str, float] = {}
    return [run_scenario(n, runner, twins) for n in chosen]


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
        "scenarios": [asdict(o) for o in outcomes],
    }
