"""The training-shapes suite (issue 18): every script in ``benchmarks/shapes/{healthy,faulty}`` run plainly
and under ``deadpan run``, deadpan's verdict set against the script's own held-out judgement.

Per script, each in its own process with one BLAS thread, two at a time:

- ``python SCRIPT``: the script's own exit status, its ``SHAPE`` line (the script's own metric and its own
  call, collapsed or not; see ``benchmarks/shapes/README.md``) and its peak resident memory;
- ``deadpan run --json R SCRIPT``: verdict, first cause, live alerts, exit status, peak memory;
- healthy scripts only, ``deadpan run --stop-on collapsed SCRIPT``: whether deadpan stopped the training.

Printed: one row per script and the acceptance counts (false alarms, live alerts, inconclusive runs, exit
statuses that differ from the script's, stopped healthy runs; the faulty twins' collapse calls and first-cause
hits). ``--json PATH`` keeps every row.

    .venv/bin/python benchmarks/shapes.py [--only SUBSTRING] [--no-stop-on] [--json rows.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent / "shapes"
ENV = {
    **os.environ,
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "PYTHONHASHSEED": "0",
}
TIMEOUT_S = 600


@dataclass
class Ran:
    status: int
    seconds: float
    max_rss_mb: float
    stdout: str
    stderr: str


@dataclass
class Row:
    script: str
    kind: str  # healthy | faulty
    expected: str | None  # the faulty twin's expected first category
    own: dict = field(default_factory=dict)  # the script's SHAPE line
    plain_status: int = 0
    plain_rss_mb: float = 0.0
    status: int = 0
    rss_mb: float = 0.0
    seconds: float = 0.0
    verdict: str = "?"
    first: str | None = None
    categories: list[str] = field(default_factory=list)
    live_alerts: int = 0
    stopped: bool | None = None
    error: str | None = None


def _popen_rss(args: list[str], cwd: Path) -> Ran:
    """Run ``args``, waiting with ``os.wait4`` so that the peak resident memory is this child's own."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, cwd=cwd, env=ENV, stdout=out, stderr=err)
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Ran(
            proc.returncode,
            time.perf_counter() - t0,
            usage.ru_maxrss / 1024,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def _own(stdout: str) -> dict:
    lines = [ln for ln in stdout.splitlines() if ln.startswith("SHAPE ")]
    return json.loads(lines[-1][len("SHAPE ") :]) if lines else {}


def _expected(script: Path) -> str | None:
    first = script.read_text().splitlines()[0]
    m = re.search(r"expected:\s*([a-z_]+\.[a-z_]+)", first)
    return m.group(1) if m else None


def judge(script: Path, stop_on: bool) -> Row:
    kind = script.parent.name
    row = Row(script.name, kind, _expected(script) if kind == "faulty" else None)
    py = sys.executable
    plain = _popen_rss([py, str(script)], script.parent)
    row.own, row.plain_status, row.plain_rss_mb = _own(plain.stdout), plain.status, plain.max_rss_mb
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        ran = _popen_rss([py, "-m", "deadpan", "run", "--json", str(report_path), str(script)], script.parent)
        row.status, row.rss_mb, row.seconds = ran.status, ran.max_rss_mb, ran.seconds
        row.live_alerts = ran.stderr.count("CollapseWarning")
        try:
            report = json.loads(report_path.read_text())
            row.verdict = report["verdict"]
            row.categories = [c["category"] for c in report.get("causes", [])]
            row.first = row.categories[0] if row.categories else None
        except (OSError, ValueError, KeyError) as exc:
            row.error = f"no report ({type(exc).__name__}); stderr tail: {ran.stderr[-300:]}"
        if stop_on and kind == "healthy":
            stopped = _popen_rss(
                [py, "-m", "deadpan", "run", "--stop-on", "collapsed", str(script)], script.parent
            )
            row.stopped = "stopped the training" in stopped.stderr
    return row


def _table(rows: list[Row]) -> str:
    head = (
        "| script | own metric | own call | verdict | first cause | live | exit (plain) | stopped | RSS +MB |"
    )
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        value, base = r.own.get("value", float("nan")), r.own.get("baseline", float("nan"))
        own = f"{r.own.get('metric', '?')} {value:.3g} (base {base:.3g})" if r.own else "no SHAPE line"
        call = "collapsed" if r.own.get("collapsed") else ("ok" if r.own else "?")
        first = r.first or "-"
        if r.expected:
            first += " ✓" if r.first == r.expected else f" (expected {r.expected})"
        stopped = "-" if r.stopped is None else ("STOPPED" if r.stopped else "no")
        lines.append(
            f"| {r.script} | {own} | {call} | {r.verdict} | {first} | {r.live_alerts} "
            f"| {r.status} ({r.plain_status}) | {stopped} | {r.rss_mb - r.plain_rss_mb:+.0f} |"
        )
    return "\n".join(lines)


def _summary(rows: list[Row]) -> str:
    healthy = [r for r in rows if r.kind == "healthy"]
    faulty = [r for r in rows if r.kind == "faulty"]
    own_ok = [r for r in healthy if r.own and not r.own.get("collapsed")]
    twins = [r for r in faulty if r.own.get("collapsed")]
    alarms = ("collapsed", "degraded")
    lines = [
        f"healthy scripts: {len(healthy)} ({len(own_ok)} healthy by their own metric), "
        f"shapes: {len({r.own.get('shape') for r in healthy if r.own})}",
        f"  false alarms (collapsed/degraded): {sum(r.verdict in alarms for r in healthy)}",
        f"  inconclusive: {sum(r.verdict == 'inconclusive' for r in healthy)}",
        f"  runs with live alerts: {sum(r.live_alerts > 0 for r in healthy)}",
        f"  exit status not the script's own: {sum(r.status != r.plain_status for r in healthy)}",
        f"  stopped by --stop-on collapsed: {sum(bool(r.stopped) for r in healthy)}",
        f"faulty twins: {len(faulty)} ({len(twins)} collapsed by their own metric)",
        f"  called collapsed or degraded: {sum(r.verdict in alarms for r in twins)}/{len(twins)}",
        f"  first cause right: {sum(r.first == r.expected for r in twins)}/{len(twins)}",
        f"max RSS added by deadpan: {max((r.rss_mb - r.plain_rss_mb for r in rows), default=0):.0f} MB",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--only",
        default="",
        help="run the scripts whose path (healthy/NAME.py, faulty/NAME.py) contains this",
    )
    ap.add_argument("--no-stop-on", action="store_true", help="skip the --stop-on collapsed runs")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    scripts = sorted(
        p for d in ("healthy", "faulty") for p in (HERE / d).glob("*.py") if args.only in f"{d}/{p.name}"
    )
    rows: list[Row] = []
    with ThreadPoolExecutor(args.workers) as pool:
        for row in pool.map(lambda s: judge(s, not args.no_stop_on), scripts):
            rows.append(row)
            print(
                f"{row.kind:7} {row.script:45} {row.verdict:12} {row.first or '-':18} {row.seconds:5.1f}s",
                file=sys.stderr,
                flush=True,
            )
    print(_table(rows))
    print()
    print(_summary(rows))
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))


if __name__ == "__main__":
    main()
