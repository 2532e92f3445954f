"""Rendering of the accuracy benchmark's figures: rich tables for the terminal, Markdown for the README."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def headline(s: dict[str, Any]) -> str:
    return (
        f"top-1 {_pct(s['top1'])}, top-3 {_pct(s['top3'])} on {s['n_mutants']} killed mutants "
        f"({s['n_candidates']} candidates: {s['n_survived']} survived, {s['n_crashed']} crashed); "
        f"false alarms {s['n_false_alarms']}/{s['n_healthy_runs']} healthy runs "
        f"({_pct(s['false_alarm_rate'])})"
    )


def render(s: dict[str, Any], console: Console) -> None:
    console.print(
        f"[bold]deadpan bench accuracy[/bold] ({'quick' if s['quick'] else 'full'} zoo, "
        f"{s['workers']} worker(s), {s['seconds']:.0f} s)"
    )
    console.print(headline(s))
    for key, label in (("tuned", "tuned part"), ("holdout", "held-out task(s)")):
        if key in s:
            b = s[key]
            where = f" {', '.join(b['tasks'])}" if "tasks" in b else ""
            console.print(
                f"  {label}{where}: top-1 {_pct(b['top1'])}, top-3 {_pct(b['top3'])} on {b['n_mutants']} "
                f"mutants; false alarms {b['n_false_alarms']}/{b['n_healthy_runs']}"
            )
    for fw, b in s.get("by_framework", {}).items():
        console.print(
            f"  {fw}: top-1 {_pct(b['top1'])}, top-3 {_pct(b['top3'])} on {b['n_mutants']} mutants; "
            f"false alarms {b['n_false_alarms']}/{b['n_healthy_runs']}"
        )
    per = Table(title="per injected category")
    for col in ("category", "n", "recall", "precision", "top-3"):
        per.add_column(col, justify="left" if col == "category" else "right")
    for cat, row in s["per_category"].items():
        per.add_row(cat, str(row["n"]), _pct(row["recall"]), _pct(row["precision"]), _pct(row["top3"]))
    console.print(per)
    cats = list(s["confusion"])
    cols = cats + sorted({p for row in s["confusion"].values() for p in row} - set(cats))
    conf = Table(title="confusion: injected (rows) vs first-ranked (columns, numbered as the rows)")
    conf.add_column("injected")
    for i in range(len(cols)):
        conf.add_column(str(i + 1), justify="right")
    for i, cat in enumerate(cats):
        row = s["confusion"][cat]
        conf.add_row(f"{i + 1} {cat}", *[str(row.get(c, "")) or "." for c in cols])
    console.print(conf)
    extra = cols[len(cats) :]
    if extra:
        console.print(
            "  columns beyond the rows: "
            + ", ".join(f"{len(cats) + i + 1} = {c}" for i, c in enumerate(extra))
        )
    if s["false_alarms"]:
        console.print("false alarms on healthy runs:")
        for fa in s["false_alarms"]:
            console.print(f"  {fa['task']} seed {fa['seed']}: {fa['verdict']} {fa['ranked'][:3]}")
    if s["slowest"]:
        console.print(
            "slowest captured runs: " + ", ".join(f"{x['id']} {x['seconds']:.1f} s" for x in s["slowest"])
        )


def print_zoo(console: Console) -> None:
    """The base tasks and the mutation operators with the category each injects."""
    from deadpan.zoo.operators import OPERATORS
    from deadpan.zoo.tasks import TASKS

    tasks = Table(title="base tasks")
    for col in ("task", "framework", "kind", "description"):
        tasks.add_column(col)
    for t in TASKS.values():
        tasks.add_row(t.name, t.framework, t.kind, t.description)
    console.print(tasks)
    ops = Table(title="mutation operators")
    for col in ("operator", "injects", "parameters", "what it does"):
        ops.add_column(col)
    for op in OPERATORS.values():
        params = ", ".join(f"{p:g}" for p in op.params) if op.params != (0.0,) else ""
        ops.add_row(op.name, op.category, params, op.description)
    console.print(ops)


def markdown(s: dict[str, Any]) -> str:
    """The README's table: headline figures and per-category recall/precision."""
    lines = [
        f"Measured {s['date']} with `{s['command']}` ({s['seconds']:.0f} s, {s['workers']} worker(s)).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| killed mutants scored | {s['n_mutants']} (of {s['n_candidates']} candidates; "
        f"{s['n_survived']} survived the kill test, {s['n_crashed']} crashed) |",
        f"| top-1 accuracy | {_pct(s['top1'])} |",
        f"| top-3 accuracy | {_pct(s['top3'])} |",
        f"| false alarms on healthy runs | {s['n_false_alarms']}/{s['n_healthy_runs']} "
        f"({_pct(s['false_alarm_rate'])}) |",
    ]
    if "holdout" in s:
        h = s["holdout"]
        lines.append(
            f"| held-out task ({', '.join(h['tasks'])}): top-1 / top-3 / false alarms | "
            f"{_pct(h['top1'])} / {_pct(h['top3'])} / {h['n_false_alarms']}/{h['n_healthy_runs']} |"
        )
    lines += ["", "| injected category | n | recall | precision | top-3 |", "|---|---|---|---|---|"]
    for cat, row in s["per_category"].items():
        lines.append(
            f"| `{cat}` | {row['n']} | {_pct(row['recall'])} | {_pct(row['precision'])} "
            f"| {_pct(row['top3'])} |"
        )
    return "\n".join(lines) + "\n"
