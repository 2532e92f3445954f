"""Leave-one-operator-out accuracy on the fault zoo (issue 19): the zoo's mutants with their operator's
dedicated checks off.

For every mutant of the quick zoo (each operator once), every check of the mutant's expected category is
switched off (``--disable``) and the mutant's representative seed is diagnosed as ``deadpan run`` does, with
the intervention search. A mutant counts only when it really harms its task (the zoo's kill test against
the task's healthy seeds, trained plainly). An operator counts as found when its mutant's first cause is the
expected category. ``--keep-checks`` switches nothing off (the zoo's own figure, for comparison).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/leave_one_operator_out.py [--workers 2] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

from deadpan.checks import all_checks, disabled
from deadpan.zoo import bench, kill, operators
from deadpan.zoo.tasks import TASKS


@dataclass
class Row:
    mutant: str
    operator: str
    expected: str
    disabled: list[str]
    killed: bool
    verdict: str | None
    first: str | None
    top3: list[str]
    crashed: str | None


def _healthy_scores(task: str, seeds: int) -> list[float]:
    """The task's healthy seeds, trained plainly: the kill test's baseline."""
    bench._init_worker()
    base = TASKS[task].base
    train = bench.trainer(base)
    with bench._quiet():
        return [train(base, s) for s in range(seeds)]


def _mutant(m: operators.Mutant, seeds: int, keep_checks: bool) -> tuple[bench.MutantResult, list[str]]:
    """The mutant's seeds and its diagnosis with the checks of its category off."""
    bench._init_worker()
    codes = [] if keep_checks else [c.code for c in all_checks() if c.category == m.category]
    with disabled(codes):
        return bench.run_mutant(m, TASKS[m.task].holdout, seeds), codes


def _row(res: bench.MutantResult, codes: list[str], baseline: list[float]) -> Row:
    killed = False
    if res.crashed is None and len(baseline) >= 2:
        killed = kill.kill_test(res.scores, baseline, bench.chance(TASKS[res.task])).killed
    d = res.diagnosis
    return Row(
        res.id,
        res.operator,
        res.category,
        codes,
        killed,
        d.verdict if d else None,
        d.ranked[0] if d and d.ranked else None,
        d.ranked[:3] if d else [],
        res.crashed,
    )


def _totals(rows: list[Row]) -> str:
    scored = [r for r in rows if r.killed]
    right = [r for r in scored if r.first == r.expected]
    top3 = [r for r in scored if r.expected in r.top3]
    broken = [r for r in scored if r.verdict in ("collapsed", "degraded")]
    return "\n".join(
        [
            f"mutants: {len(rows)}, harmful (kill test): {len(scored)}",
            f"operators found (first cause right): {len(right)}/{len(scored)} "
            f"({len(right) / max(len(scored), 1):.0%}); in the top 3: {len(top3)}/{len(scored)}",
            f"collapsed/degraded with no cause: {sum(r.first is None for r in broken)} of {len(broken)}",
        ]
    )


def _table(rows: list[Row]) -> str:
    lines = [
        "| operator | mutant | expected | checks off | verdict | first cause |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        mark = " ✓" if r.first == r.expected else ""
        verdict = r.verdict if r.killed else f"{r.verdict} (not harmful: not scored)"
        lines.append(
            f"| {r.operator} | {r.mutant} | {r.expected} | {', '.join(r.disabled)} | {verdict} "
            f"| {r.first or '-'}{mark} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--keep-checks", action="store_true", help="switch no check off")
    ap.add_argument(
        "--only", action="append", default=None, help="only the quick mutants whose id has this (repeatable)"
    )
    args = ap.parse_args()
    sel = bench.select(quick=True)
    if args.only:
        sel.mutants = [m for m in sel.mutants if any(o in m.id for o in args.only)]
    tasks = sorted({m.task for m in sel.mutants})
    baseline: dict[str, list[float]] = {}
    results: list[tuple[bench.MutantResult, list[str]]] = []
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        healthy = {pool.submit(_healthy_scores, t, sel.healthy_seeds): t for t in tasks}
        mutants = [pool.submit(_mutant, m, sel.mutant_seeds, args.keep_checks) for m in sel.mutants]
        for fut in as_completed(healthy):
            baseline[healthy[fut]] = fut.result()
        for fut in as_completed(mutants):
            res, codes = fut.result()
            results.append((res, codes))
            first = res.diagnosis.ranked[0] if res.diagnosis and res.diagnosis.ranked else "-"
            print(f"{res.id:48} {res.category:24} {first}", file=sys.stderr)
    order = {m.id: i for i, m in enumerate(sel.mutants)}
    rows = sorted((_row(r, c, baseline.get(r.task, [])) for r, c in results), key=lambda r: order[r.mutant])
    print(_table(rows))
    print()
    print(_totals(rows))
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))


if __name__ == "__main__":
    main()
