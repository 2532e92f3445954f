"""Real faults from public benchmarks (issue 19): every case in ``benchmarks/realbugs/<case>/``, a bug from
the DeepFD / DeepLocalize benchmarks of faulty Keras programs, ported to Keras 3 with bundled or generated
data, the benchmark's fault line kept (``buggy.py``) and its fix as the twin (``fixed.py``); ``case.json``
holds the provenance, the benchmark's own labels and the deadpan categories they map to (``README.md``
there).

Per case, each in its own process with one BLAS thread, two cases at a time:

- ``python buggy.py`` and ``python fixed.py``: each script's own held-out metric (its last line,
  ``REALBUG <metric> <value>``). A port is faithful when the fixed twin scores at least ``FAITHFUL_GAIN``
  higher; unfaithful ports are reported and left out of the figures;
- ``deadpan run --json R buggy.py``: verdict, causes, seconds; the first cause is right when it is one of the
  case's categories, top 3 when one of the first three is;
- with ``--fixed``, ``deadpan run`` on the fixed twin too (its verdict: a healthy program should not alarm).

Printed: one row per case and the figures. ``--json PATH`` keeps every row; ``--markdown PATH`` writes the
table with provenance (the README's).

    .venv/bin/python benchmarks/realbugs.py [--only SUBSTRING] [--fixed] [--json rows.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent / "realbugs"
ENV = {
    **os.environ,
    "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "torch"),
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONHASHSEED": "0",
}
TIMEOUT_S = 600
#: The fixed twin scores at least this much higher on its own held-out metric (accuracy or R²), or the port
#: does not reproduce the benchmark's fault and is left out.
FAITHFUL_GAIN = 0.10


@dataclass
class Row:
    case: str
    categories: list[str]
    labels: list[str]
    source: str
    metric: str = "?"
    buggy: float | None = None
    fixed: float | None = None
    verdict: str = "?"
    causes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    search_seconds: float | None = None
    fixed_verdict: str | None = None
    error: str | None = None

    @property
    def faithful(self) -> bool:
        return self.buggy is not None and self.fixed is not None and self.fixed >= self.buggy + FAITHFUL_GAIN

    @property
    def first_right(self) -> bool:
        return bool(self.causes) and self.causes[0] in self.categories

    @property
    def top3_right(self) -> bool:
        return any(c in self.categories for c in self.causes[:3])


def _own_metric(script: Path) -> tuple[str, float | None, str]:
    """The script's own held-out metric: its last ``REALBUG`` line."""
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tempfile.gettempdir(),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    lines = [ln.split() for ln in proc.stdout.splitlines() if ln.startswith("REALBUG ")]
    if not lines or len(lines[-1]) != 3:
        return "?", None, f"exit {proc.returncode}, no REALBUG line: {proc.stderr[-300:]}"
    return lines[-1][1], float(lines[-1][2]), ""


def _diagnose(script: Path) -> tuple[dict | None, float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "deadpan", "run", "--quiet", "--json", str(out), str(script)],
            cwd=tmp,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        seconds = time.perf_counter() - t0
        if not out.is_file():
            return None, seconds, f"no report (exit {proc.returncode}): {proc.stderr[-300:]}"
        return json.loads(out.read_text()), seconds, ""


def judge(folder: Path, fixed_too: bool) -> Row:
    case = json.loads((folder / "case.json").read_text())
    row = Row(folder.name, list(case["categories"]), list(case["labels"]), case["source"])
    row.metric, row.buggy, err_b = _own_metric(folder / "buggy.py")
    _, row.fixed, err_f = _own_metric(folder / "fixed.py")
    report, row.seconds, err_d = _diagnose(folder / "buggy.py")
    if report is not None:
        row.verdict = report["verdict"]
        row.causes = [c["category"] for c in report.get("causes", [])]
        row.search_seconds = (report.get("metrics", {}).get("search") or {}).get("seconds")
    if fixed_too:
        fixed_report, _, _ = _diagnose(folder / "fixed.py")
        row.fixed_verdict = fixed_report["verdict"] if fixed_report else "no report"
    row.error = "; ".join(e for e in (err_b, err_f, err_d) if e) or None
    return row


def cases(only: str = "") -> list[Path]:
    return sorted(p.parent for p in HERE.glob("*/case.json") if only in p.parent.name)


def table(rows: list[Row]) -> str:
    lines = [
        "| case | benchmark labels | categories | buggy → fixed (own metric) | verdict | first cause | |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        own = f"{r.metric} {r.buggy:.2f} → {r.fixed:.2f}" if r.faithful else "not faithful: left out"
        mark = "✓" if r.first_right else ("top 3" if r.top3_right else "✗")
        link = f"[{r.case}]({r.source})"
        lines.append(
            f"| {link} | {', '.join(r.labels)} | {', '.join(r.categories)} | {own} | {r.verdict} "
            f"| {r.causes[0] if r.causes else '—'} | {mark if r.faithful else ''} |"
        )
    return "\n".join(lines)


def summary(rows: list[Row]) -> str:
    kept = [r for r in rows if r.faithful]
    n = max(len(kept), 1)
    alarms = [r for r in kept if r.verdict in ("collapsed", "degraded")]
    lines = [
        f"cases: {len(rows)}, faithful ports: {len(kept)}",
        f"  called collapsed or degraded: {len(alarms)}/{len(kept)}",
        f"  first cause right: {sum(r.first_right for r in kept)}/{len(kept)} "
        f"({100 * sum(r.first_right for r in kept) / n:.0f}%)",
        f"  right cause in the top 3: {sum(r.top3_right for r in kept)}/{len(kept)} "
        f"({100 * sum(r.top3_right for r in kept) / n:.0f}%)",
        f"  collapsed/degraded with no cause: {sum(not r.causes for r in alarms)}",
    ]
    if any(r.fixed_verdict for r in kept):
        fa = sum(r.fixed_verdict in ("collapsed", "degraded") for r in kept)
        lines.append(f"  fixed twins called collapsed or degraded: {fa}/{len(kept)}")
    searched = sorted(r.search_seconds for r in kept if r.search_seconds is not None)
    if searched:
        lines.append(
            f"  search: {len(searched)} runs, median {searched[len(searched) // 2]:.1f} s, "
            f"max {searched[-1]:.1f} s"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="the cases whose folder name contains this")
    ap.add_argument("--fixed", action="store_true", help="diagnose the fixed twins too")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--markdown", type=Path, default=None)
    args = ap.parse_args()
    rows: list[Row] = []
    with ThreadPoolExecutor(args.workers) as pool:
        for row in pool.map(lambda f: judge(f, args.fixed), cases(args.only)):
            rows.append(row)
            first = row.causes[0] if row.causes else "-"
            print(
                f"{row.case:40} {row.verdict:12} {first:22} {row.seconds:5.1f}s", file=sys.stderr, flush=True
            )
    print(table(rows))
    print()
    print(summary(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    if args.markdown:
        args.markdown.write_text(table(rows) + "\n\n" + summary(rows) + "\n")


if __name__ == "__main__":
    main()
