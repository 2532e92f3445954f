"""Distributed data-parallel training (2 ranks, gloo, CPU), started the ways users start it.

Each start is a real multi-process run of ``tests/trust/ddp/ddp_train.py``: every rank records and diagnoses
its own shard, rank 0 merges, and only one report comes out. The skewed data set gives rank 1 a shard of one
class only, a collapse no other rank shows: the report must name rank 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from deadpan.capture import distributed
from deadpan.capture.distributed import SHARD_HINT, merge, unwrap
from deadpan.findings import Cause, Collapse, Finding, Report, Severity

SCRIPT = Path(__file__).parent / "ddp" / "ddp_train.py"
BIN = Path(sys.executable).parent


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``args``; afterwards, no hand-over folder of that process (``deadpan-workers-PID-*``) is left."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("DEADPAN_WORKER_REPORT", None)
    with subprocess.Popen(
        args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        out, err = proc.communicate(timeout=300)
    assert not list(Path(tempfile.gettempdir()).glob(f"deadpan-workers-{proc.pid}-*"))
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def _deadpan(*args: str) -> list[str]:
    return [sys.executable, "-m", "deadpan", "run", *args]


def _torchrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", *args]


def _reports_printed(stderr: str) -> int:
    return sum(stderr.count(f"deadpan: {v}") for v in ("COLLAPSED", "DEGRADED", "HEALTHY", "INCONCLUSIVE"))


def _assert_rank_1_collapse(report: dict[str, Any]) -> None:
    assert report["verdict"] == "collapsed"
    assert report["summary"].startswith("On rank 1's shard only (rank 0: healthy)")
    assert report["causes"][0]["category"] == "data.labels"
    assert SHARD_HINT in report["causes"][0]["fix"]
    assert all(f["evidence"]["rank"] == 1 for f in report["findings"])
    info = report["metrics"]["distributed"]
    assert info["world_size"] == 2 and info["agree"] is False and info["worst_ranks"] == [1]
    assert [(r["rank"], r["verdict"]) for r in info["ranks"]] == [(0, "healthy"), (1, "collapsed")]


# --- started the ways users start them ----------------------------------------------------------------------
def test_torchrun_under_deadpan_run_names_the_rank_whose_shard_collapsed(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    args = ["--json", str(out), "torchrun", "--nproc-per-node", "2", str(SCRIPT), "--skew"]
    p = _run(_deadpan(*args), tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "rank 0: trained" in p.stdout and "rank 1: trained" in p.stdout
    assert _reports_printed(p.stderr) == 1  # the parent's report; no worker printed one
    _assert_rank_1_collapse(json.loads(out.read_text()))


@pytest.mark.corpus  # 14 s of spawned workers: make e2e (make test keeps torchrun and watch under DDP)
def test_a_script_that_spawns_its_workers_keeps_its_group_and_is_healthy(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    p = _run(_deadpan("--json", str(out), str(SCRIPT), "--spawn", "--keep-group"), tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "rank 0: trained" in p.stdout and "rank 1: trained" in p.stdout
    assert _reports_printed(p.stderr) == 1
    report = json.loads(out.read_text())
    assert report["verdict"] == "healthy", report["summary"]
    info = report["metrics"]["distributed"]
    assert info["agree"] is True and [r["verdict"] for r in info["ranks"]] == ["healthy", "healthy"]
    assert [r["steps"] for r in info["ranks"]] == [60, 60]


@pytest.mark.corpus  # 12 s: make e2e (make test keeps `deadpan run torchrun` and watch under DDP)
def test_deadpan_run_inside_torchrun_reports_from_rank_0_only(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    p = _run(_torchrun("-m", "deadpan", "run", "--json", str(out), str(SCRIPT), "--skew"), tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    assert _reports_printed(p.stderr) == 1
    _assert_rank_1_collapse(json.loads(out.read_text()))


def test_watch_under_torchrun_gives_rank_0_the_merged_report(tmp_path: Path) -> None:
    p = _run(_torchrun(str(SCRIPT), "--skew", "--watch"), tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    lines = [line for line in p.stdout.splitlines() if line.startswith("WATCH ")]
    reports = [json.loads(line[len("WATCH ") :]) for line in lines]
    assert len(reports) == 2
    merged = [r for r in reports if "ranks" in r["metrics"]["distributed"]]
    sent = [r for r in reports if "ranks" not in r["metrics"]["distributed"]]
    assert len(merged) == 1 and len(sent) == 1
    _assert_rank_1_collapse(merged[0])
    assert sent[0]["metrics"]["distributed"] == {"world_size": 2, "rank": 1, "reported_by": 0}
    assert "collapsed at step" not in p.stderr  # rank 1's live alert stays in rank 1's report; rank 0 speaks


# --- the merge, in process ----------------------------------------------------------------------------------
def _report(verdict: str, category: str | None = None, rank_note: str = "") -> Report:
    findings = ()
    causes: tuple[Cause, ...] = ()
    if category is not None:
        f = Finding("DP1", "x", category, Severity.ERROR, "the targets hold one value", "fix the labels")
        findings = (f,)
        causes = (Cause(category, 0.9, "the targets hold one value", ("DP1",), "fix the labels"),)
    return Report(
        verdict=verdict,
        summary=f"{verdict.capitalize()}.{rank_note}",
        collapse=Collapse(),
        causes=causes,
        findings=findings,
        metrics={"steps": 5},
    )


def test_agreeing_ranks_give_rank_0_s_report_with_the_table() -> None:
    merged = merge({0: _report("healthy"), 1: _report("healthy"), 2: _report("healthy")}, 3)
    assert merged.summary == "Healthy."
    info = merged.metrics["distributed"]
    assert info["agree"] and [r["rank"] for r in info["ranks"]] == [0, 1, 2]


def test_the_worst_rank_leads_and_every_finding_names_it() -> None:
    merged = merge({0: _report("healthy"), 1: _report("degraded"), 2: _report("collapsed", "data.labels")}, 3)
    assert merged.verdict == "collapsed"
    assert merged.summary.startswith("On rank 2's shard only (rank 0: healthy; rank 1: degraded): ")
    assert merged.findings[0].message.startswith("rank 2: ") and merged.findings[0].evidence["rank"] == 2
    assert merged.causes[0].summary.startswith("rank 2: ") and merged.causes[0].fix.endswith(SHARD_HINT)


def test_a_rank_that_sent_nothing_is_listed_not_waited_for_forever() -> None:
    merged = merge({0: _report("healthy"), 1: None}, 2)
    assert merged.metrics["distributed"]["ranks"][1]["verdict"] == "missing"
    assert "no report from rank(s) 1" in merged.internal_errors[-1]


class _Store:
    """The part of a c10d store the exchange uses."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.waited: list[float] = []

    def check(self, keys: list[str]) -> bool:
        return all(k in self.values for k in keys)

    def wait(self, keys: list[str], timeout: timedelta) -> None:
        self.waited.append(timeout.total_seconds())
        if any(k not in self.values for k in keys):
            raise RuntimeError("timeout")

    def get(self, key: str) -> bytes:
        return self.values[key].encode()

    def delete_key(self, key: str) -> bool:
        return self.values.pop(key, None) is not None


def test_rank_0_waits_a_bounded_time_and_never_for_a_rank_without_deadpan(monkeypatch: Any) -> None:
    """Rank 1 sent its report; rank 2 runs deadpan but never sends (it died); rank 3 runs without deadpan."""
    n = distributed._exchanges + 1
    store = _Store(
        {
            "deadpan/present/1": "1",
            "deadpan/present/2": "1",
            f"deadpan/report/{n}/1": _report("collapsed", "data.labels").to_json(),
        }
    )
    monkeypatch.setattr(distributed, "_store", lambda: store)
    merged = distributed.exchange(_report("healthy"), distributed.World(0, 4), timeout_s=0.5)
    assert merged.verdict == "collapsed"
    verdicts = [r["verdict"] for r in merged.metrics["distributed"]["ranks"]]
    assert verdicts == ["healthy", "collapsed", "missing", "missing"]
    assert len(store.waited) == 2 and max(store.waited) <= 0.5  # ranks 1 and 2; rank 3 is not waited for


def test_a_broken_store_leaves_the_rank_with_its_own_report(monkeypatch: Any) -> None:
    def broken() -> Any:
        raise RuntimeError("no store")

    monkeypatch.setattr(distributed, "_store", broken)
    own = _report("healthy")
    got = distributed.exchange(own, distributed.World(1, 2))
    assert got.verdict == "healthy" and "could not exchange" in got.internal_errors[-1]


def test_the_module_inside_a_data_parallel_wrapper_is_followed(tmp_path: Path) -> None:
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    inner = nn.Linear(3, 2)
    assert unwrap(inner) is inner
    assert unwrap(nn.DataParallel(inner)) is inner
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        ddp = DistributedDataParallel(inner)
        assert unwrap(ddp) is inner
        assert distributed.world() is None  # one rank: nothing to exchange
        from deadpan.capture.recorder import Recorder

        rec = Recorder(ddp, (torch.optim.SGD(ddp.parameters(), lr=0.1),))
        assert rec.model is inner
    finally:
        dist.destroy_process_group()


@pytest.fixture(autouse=True)
def _no_group_left() -> Any:
    yield
    import torch.distributed as dist

    assert not dist.is_initialized()
