"""Leave-one-kind-out accuracy (issue 19): faults no check names.

For every broken scenario, the checks written for its fault kind (every check of its expected category) are
switched off (``--disable``), and the run is diagnosed with everything else: first by the remaining checks
alone, then with the intervention search (``deadpan run``'s default). A kind counts as found when its
scenarios' first cause is the expected category. Prints a markdown table per scenario and the totals.
``--keep-checks`` switches nothing off: what the search changes on the full diagnosis.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/leave_one_out.py [--framework torch|keras] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from deadpan.checks import all_checks, disabled
from deadpan.fixes.options import VerifyOptions, proven
from deadpan.scenarios.registry import Scenario, all_scenarios
from deadpan.script.autolog import run_callable


@dataclass
class Row:
    scenario: str
    expected: str
    disabled: list[str]
    verdict: str
    before: str | None
    after: str | None
    searched: bool
    search_seconds: float
    tried: list[str]


def _first(report: object) -> str | None:
    causes = getattr(report, "causes", ())
    return causes[0].category if causes else None


def judge(sc: Scenario, keep_checks: bool = False) -> Row:
    assert sc.expected is not None
    codes = [] if keep_checks else [c.code for c in all_checks() if c.category == sc.expected]
    with disabled(codes):
        result = run_callable(sc.train)
        before = result.report
        t0 = time.perf_counter()
        options = VerifyOptions(workers=1, progress=False, verify=False, search=True)
        after = proven(before, result.evidence, result.inputs, options)
    search = after.metrics.get("search") or {}
    return Row(
        sc.name,
        sc.expected,
        codes,
        before.verdict,
        _first(before),
        _first(after),
        "search" in after.metrics,
        round(time.perf_counter() - t0, 1),
        [f"{t['fix']}:{t['status']}" for t in search.get("tried", [])],
    )


def _mark(cause: str | None, expected: str) -> str:
    return f"{cause or '-'} ✓" if cause == expected else f"{cause or '-'}"


def _table(rows: list[Row]) -> str:
    lines = [
        "| scenario | expected | checks off | verdict | first cause, checks only | with the search "
        "| search s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.scenario} | {r.expected} | {', '.join(r.disabled)} | {r.verdict} "
            f"| {_mark(r.before, r.expected)} | {_mark(r.after, r.expected)} "
            f"| {r.search_seconds if r.searched else '-'} |"
        )
    return "\n".join(lines)


def _totals(rows: list[Row]) -> str:
    kinds = sorted({r.expected for r in rows})

    def found(kind: str, after: bool) -> float:
        """The share of the kind's scenarios whose first cause is the kind."""
        cases = [r for r in rows if r.expected == kind]
        return sum((r.after if after else r.before) == kind for r in cases) / len(cases)

    by_kind_before = [k for k in kinds if found(k, False) > 0.5]
    by_kind_after = [k for k in kinds if found(k, True) > 0.5]
    searched = [r.search_seconds for r in rows if r.searched]
    broken = [r for r in rows if r.verdict in ("collapsed", "degraded")]
    return "\n".join(
        [
            f"scenarios: {len(rows)}, kinds: {len(kinds)}",
            f"first cause right, checks only: {sum(r.before == r.expected for r in rows)}/{len(rows)} "
            f"scenarios, {len(by_kind_before)}/{len(kinds)} kinds (most of a kind's scenarios right)",
            f"first cause right, with the search: {sum(r.after == r.expected for r in rows)}/{len(rows)} "
            f"scenarios, {len(by_kind_after)}/{len(kinds)} kinds (most of a kind's scenarios right)",
            f"empty cause lists of {len(broken)} collapsed/degraded: checks only "
            f"{sum(r.before is None for r in broken)}, "
            f"with the search {sum(r.after is None for r in broken)}",
            f"search wall time: median {sorted(searched)[len(searched) // 2] if searched else 0} s, "
            f"max {max(searched, default=0)} s over {len(searched)} searches",
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--framework", default="torch", choices=("torch", "keras"))
    ap.add_argument("--only", default="", help="scenarios whose name contains this")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--keep-checks", action="store_true", help="switch no check off: the search on the full diagnosis"
    )
    args = ap.parse_args()
    rows = []
    for sc in all_scenarios(args.framework):
        if sc.healthy or args.only not in sc.name:
            continue
        row = judge(sc, args.keep_checks)
        rows.append(row)
        print(
            f"{row.scenario:32} {row.expected:24} {row.before or '-':24} {row.after or '-'}", file=sys.stderr
        )
    print(_table(rows))
    print()
    print(_totals(rows))
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))


if __name__ == "__main__":
    main()
