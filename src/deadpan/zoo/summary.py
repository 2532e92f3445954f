"""The figures of the accuracy benchmark, computed from the mutant and healthy results.

* **top-1 / top-3**: the share of killed mutants whose injected category is deadpan's first / among its
  first three ranked causes. A mutant deadpan calls healthy counts as a miss with the prediction "none".
* **per category**: recall (injected c, ranked c first) and precision (ranked c first, injected c).
* **false-alarm rate**: the share of healthy runs (several seeds of every base task) with the verdict
  collapsed or degraded.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

from deadpan.zoo.bench import HealthyResult, MutantResult

NONE = "none"

SCHEMA = "deadpan.bench.accuracy/1"


def predicted(m: MutantResult) -> str:
    assert m.diagnosis is not None
    return m.diagnosis.ranked[0] if m.diagnosis.ranked else NONE


def figures(mutants: list[MutantResult], healthy: list[HealthyResult]) -> dict[str, Any]:
    scored = [m for m in mutants if m.scored]
    n = len(scored)
    hits1 = sum(predicted(m) == m.category for m in scored)
    hits3 = sum(m.category in m.diagnosis.ranked[:3] for m in scored if m.diagnosis)
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for m in scored:
        confusion[m.category][predicted(m)] += 1
    predicted_counts = Counter(predicted(m) for m in scored)
    per_category = {}
    for cat in sorted(confusion):
        row = confusion[cat]
        total = sum(row.values())
        per_category[cat] = {
            "n": total,
            "recall": row[cat] / total,
            "precision": row[cat] / predicted_counts[cat] if predicted_counts[cat] else None,
            "top3": sum(cat in m.diagnosis.ranked[:3] for m in scored if m.category == cat and m.diagnosis)
            / total,
        }
    runs = [h for h in healthy if h.diagnosis is not None]
    alarms = [h for h in runs if h.diagnosis and h.diagnosis.verdict in ("collapsed", "degraded")]
    inconclusive = [h for h in runs if h.diagnosis and h.diagnosis.verdict == "inconclusive"]
    return {
        "top1": hits1 / n if n else None,
        "top3": hits3 / n if n else None,
        "false_alarm_rate": len(alarms) / len(runs) if runs else None,
        "n_mutants": n,
        "n_candidates": len(mutants),
        "n_survived": sum(
            1 for m in mutants if m.crashed is None and m.kill is not None and not m.kill.killed
        ),
        "n_crashed": sum(1 for m in mutants if m.crashed is not None),
        "n_healthy_runs": len(runs),
        "n_false_alarms": len(alarms),
        "n_healthy_inconclusive": len(inconclusive),
        "per_category": per_category,
        "confusion": {cat: dict(row) for cat, row in sorted(confusion.items())},
        "false_alarms": [
            {"task": h.task, "seed": h.seed, "verdict": h.diagnosis.verdict, "ranked": h.diagnosis.ranked}
            for h in alarms
            if h.diagnosis
        ],
    }


def summarize(
    mutants: list[MutantResult],
    healthy: list[HealthyResult],
    *,
    command: str,
    quick: bool,
    workers: int,
    seconds: float,
) -> dict[str, Any]:
    """Every figure the benchmark prints, plus the same figures for the held-out task(s) and for the rest
    (the part of the zoo accuracy work was tuned on), and one record per mutant."""
    out: dict[str, Any] = {"schema": SCHEMA, "date": date.today().isoformat(), "command": command}
    out["quick"], out["workers"], out["seconds"] = quick, workers, round(seconds, 1)
    out.update(figures(mutants, healthy))
    held = sorted({m.task for m in mutants if m.holdout} | {h.task for h in healthy if h.holdout})
    if held:
        out["holdout"] = {
            "tasks": held,
            **_brief(figures([m for m in mutants if m.holdout], [h for h in healthy if h.holdout])),
        }
        out["tuned"] = _brief(
            figures([m for m in mutants if not m.holdout], [h for h in healthy if not h.holdout])
        )
    frameworks = sorted({m.task.startswith("keras-") for m in mutants})
    if len(frameworks) > 1:
        out["by_framework"] = {
            fw: _brief(
                figures(
                    [m for m in mutants if m.task.startswith("keras-") == (fw == "keras")],
                    [h for h in healthy if h.task.startswith("keras-") == (fw == "keras")],
                )
            )
            for fw in ("torch", "keras")
        }
    timed = [m for m in mutants if m.diagnosis is not None]
    timed.sort(key=lambda m: m.diagnosis.seconds if m.diagnosis else 0.0, reverse=True)
    out["slowest"] = [
        {"id": m.id, "seconds": round(m.diagnosis.seconds, 2)} for m in timed[:5] if m.diagnosis
    ]
    out["mutants"] = [_record(m) for m in mutants]
    return out


def _brief(f: dict[str, Any]) -> dict[str, Any]:
    keys = ("top1", "top3", "false_alarm_rate", "n_mutants", "n_healthy_runs", "n_false_alarms")
    return {k: f[k] for k in keys}


def _record(m: MutantResult) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": m.id,
        "task": m.task,
        "operator": m.operator,
        "param": m.param,
        "category": m.category,
        "holdout": m.holdout,
        "scores": [round(s, 4) for s in m.scores],
        "crashed": m.crashed,
    }
    if m.kill is not None:
        rec["killed"] = m.kill.killed
        rec["p_value"] = round(m.kill.p_value, 5)
        rec["loss_share"] = round(m.kill.loss_share, 3)
    if m.diagnosis is not None:
        rec["verdict"] = m.diagnosis.verdict
        rec["ranked"] = m.diagnosis.ranked
        rec["seconds"] = round(m.diagnosis.seconds, 2)
        rec["diagnosed_seed"] = m.diagnosis.seed
    return rec
