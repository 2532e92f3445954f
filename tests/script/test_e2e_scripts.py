"""End to end: real user training scripts run under ``python -m deadpan.cli run``, one subprocess each.

Every script in ``tests/script/e2e/scripts/`` is a plain PyTorch training a user might post with a bug report
(the comment at its top quotes the complaint). Each runs as ``deadpan run --json REPORT SCRIPT`` in its own
process, exactly as a user would start it, and the test checks the script's own exit status, the report's
schema and the top-ranked cause (or a healthy verdict with no causes).

The subprocesses run two at a time with one torch thread each: on a small, shared machine this is faster
and far steadier than one process competing with itself for the cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).parent / "e2e" / "scripts"

#: script (file stem) -> the expected top cause; None: the training is correct, the verdict must be healthy.
EXPECTED: dict[str, str | None] = {
    "softmax_then_cross_entropy": "loss.mismatch",
    "mse_target_broadcast": "loss.mismatch",
    "relu_head_log_target": "model.output",
    "zero_grad_missing": "train.loop",
    "loss_from_item": "train.loop",
    "next_iter_every_step": "train.loop",
    "uint8_integer_division_cnn": "data.inputs",
    "labels_parsed_to_one_class": "data.labels",
    "inputs_shuffled_apart": "data.no_signal",
    "sgd_lr_too_high": "optim.lr_too_high",
    "fraud_imbalance": "data.imbalance",
    "zero_weight_init": "init.symmetry",
    "sigmoid_into_bce_with_logits": "loss.mismatch",
    "weight_decay_too_strong": "train.over_regularized",
    "healthy_wine_classifier": None,
    "healthy_diabetes_regression": None,
    "healthy_cnn_tuple_output": None,
}

#: The scripts ``make test`` runs: a loop bug, inputs and targets shuffled apart (the learnability probe), a
#: healthy CNN with tuple outputs. The others are the ``corpus`` (``make e2e``): the same capture paths with
#: other faults (a loss mismatch, uint8 images: the scenario suite and the fault zoo cover them in-process),
#: kept out of the 10-minute gate.
GATE = {
    "zero_grad_missing",
    "inputs_shuffled_apart",
    "healthy_cnn_tuple_output",
}

#: Scripts deadpan is known to diagnose wrongly: name -> reason. Each becomes a strict xfail, so a fix in
#: deadpan makes the test fail until the entry is removed.
KNOWN_WRONG: dict[str, str] = {}

TIMEOUT_S = 180
WORKERS = max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None
    seconds: float


def _run_script(name: str, workdir: Path) -> Run:
    workdir.mkdir(parents=True, exist_ok=True)
    report_path = workdir / "report.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    cmd = [
        sys.executable,
        "-m",
        "deadpan.cli",
        "run",
        "--json",
        str(report_path),
        str(SCRIPTS / f"{name}.py"),
    ]
    t0 = time.perf_counter()
    # cwd: an empty folder, so nothing in the working directory can shadow a module the script imports.
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    seconds = time.perf_counter() - t0
    report = json.loads(report_path.read_text()) if report_path.is_file() else None
    return Run(proc.returncode, proc.stdout, proc.stderr, report, seconds)


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Future[Run]]]:
    """Start every selected script at once (``WORKERS`` at a time); each test waits for its own."""
    selected = [
        item.callspec.params["script"]
        for item in request.session.items
        if getattr(item, "callspec", None) is not None
        and item.module is request.module
        and "script" in item.callspec.params
    ]
    base = tmp_path_factory.mktemp("e2e")
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    futures: dict[str, Future[Run]] = {}

    def start(name: str) -> Future[Run]:
        if name not in futures:
            futures[name] = pool.submit(_run_script, name, base / name)
        return futures[name]

    for name in selected:
        start(name)
    yield start
    pool.shutdown(wait=True, cancel_futures=True)


def _case(name: str) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN_WRONG[name])] if name in KNOWN_WRONG else []
    if name not in GATE:
        marks.append(pytest.mark.corpus)
    return pytest.param(name, marks=marks, id=name)


def test_every_script_has_an_expectation() -> None:
    on_disk = {p.stem for p in SCRIPTS.glob("*.py")}
    assert on_disk == set(EXPECTED), "add each script to EXPECTED (and remove entries for deleted ones)"
    assert set(KNOWN_WRONG) <= set(EXPECTED)
    assert set(GATE) <= set(EXPECTED)


def test_cli_module_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "deadpan.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "run" in proc.stdout


@pytest.mark.parametrize("script", [_case(n) for n in EXPECTED])
def test_script_diagnosis(script: str, runs: Callable[[str], Future[Run]]) -> None:
    run = runs(script).result()
    where = f"{script}.py ({run.seconds:.1f}s); deadpan's stderr ends:\n{run.stderr[-4000:]}"
    assert run.returncode == 0, f"exit status {run.returncode} for {where}"
    assert run.report is not None, f"no JSON report for {where}"
    report = run.report
    assert report["schema"] == "deadpan.report/1"
    causes = [c["category"] for c in report["causes"]]
    expected = EXPECTED[script]
    if expected is None:
        assert report["verdict"] == "healthy", f"verdict {report['verdict']}, causes {causes} for {where}"
        assert causes == []
    else:
        assert report["verdict"] in {"collapsed", "degraded"}, f"verdict {report['verdict']} for {where}"
        assert causes, f"no cause for {where}"
        assert causes[0] == expected, f"top cause {causes[0]} (all: {causes}), expected {expected}, {where}"
