"""End to end for Keras: real user training scripts run under ``python -m deadpan.cli run``, one process
each.

Every script in ``tests/keras_backend/e2e/scripts/`` is a plain Keras training a user might post with a bug
report (the comment at its top quotes the complaint). Each runs as ``deadpan run --json REPORT SCRIPT`` in
its own process, exactly as a user would start it, on the Keras backend of this test process
(``KERAS_BACKEND``), and the test checks the script's own exit status, the report's schema and the top-
ranked cause (or a healthy verdict with no causes). Scripts written against ``from tensorflow import keras``
only run on the TensorFlow backend. The scripts between them feed ``fit`` NumPy arrays, a
``tf.data.Dataset``, a ``keras.utils.PyDataset`` and a Python generator, and one trains with
``train_on_batch``, so every capture path is exercised.

The subprocesses run two at a time with one thread each (as the PyTorch end-to-end tests do). A table of
script, expected and found cause and seconds is printed at the end of the session.
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

keras = pytest.importorskip("keras")

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).parent / "e2e" / "scripts"
BACKEND = str(keras.backend.backend())

#: script (file stem) -> the expected top cause; None: the training is correct, the verdict must be healthy.
EXPECTED: dict[str, str | None] = {
    "sigmoid_categorical_crossentropy": "loss.mismatch",
    "logits_into_sparse_categorical": "loss.mismatch",
    "softmax_with_from_logits": "loss.mismatch",
    "softmax_single_unit": "model.output",
    "relu_output_negative_targets": "model.output",
    "unscaled_features_sgd": "data.inputs",
    "sgd_lr_too_high": "optim.lr_too_high",
    "sgd_lr_too_low": "optim.lr_too_low",
    "zeros_kernel_init": "init.symmetry",
    "churn_imbalance": "data.imbalance",
    "tfdata_shuffled_apart": "data.no_signal",
    "generator_labels_one_class": "data.labels",
    "l2_penalty_train_on_batch": "train.over_regularized",
    "healthy_wine_pydataset": None,
    "healthy_circles_tfdata": None,
}

#: Each script runs on one backend: the diagnosis does not depend on the backend (the evidence is the same),
#: the capture does, and the capture of arrays, a ``PyDataset``, a generator and ``train_on_batch`` is the
#: same Python on every backend. So the torch backend runs every script that does not import TensorFlow, and
#: the TensorFlow backend those that do (``tf.data``, ``tf.keras``); the TensorFlow backend's own tensors pass
#: through the in-process Keras tests too. ``DEADPAN_KERAS_ALL=1``: every script on every backend it can run
#: on (15/15 on TensorFlow and 12/12 on torch on 2026-12-02).
#: The scripts ``make test`` runs: one per way Keras is fed besides arrays (a ``PyDataset``, a generator,
#: ``train_on_batch``, ``tf.data``; ``fit`` on arrays under ``deadpan run`` is ``test_run_options.py``'s).
#: The others are the ``corpus`` (``make e2e``).
GATE = {
    "healthy_wine_pydataset",
    "generator_labels_one_class",
    "l2_penalty_train_on_batch",
    "healthy_circles_tfdata",
}

#: Scripts deadpan is known to diagnose wrongly: ``name`` (every backend) or ``name@backend`` -> reason. Each
#: becomes a strict xfail, so a fix in deadpan makes the test fail until the entry is removed.
KNOWN_WRONG: dict[str, str] = {}

TIMEOUT_S = 300
WORKERS = max(1, min(2, os.cpu_count() or 1))
#: Environment for every script: this process's backend, quiet TensorFlow, one thread per process.
ENV = {
    "KERAS_BACKEND": BACKEND,
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
}


ALL = os.environ.get("DEADPAN_KERAS_ALL") == "1"


def _on_this_backend(name: str) -> bool:
    if BACKEND == "tensorflow":
        return ALL or needs_tf(name)
    return not needs_tf(name)


def needs_tf(name: str) -> bool:
    """The script imports TensorFlow (``tf.data``, ``tf.keras``): it only makes sense on that backend."""
    text = (SCRIPTS / f"{name}.py").read_text()
    return "import tensorflow" in text or "from tensorflow" in text


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
    proc = subprocess.run(
        cmd, cwd=workdir, env=dict(os.environ, **ENV), capture_output=True, text=True, timeout=TIMEOUT_S
    )
    seconds = time.perf_counter() - t0
    report = json.loads(report_path.read_text()) if report_path.is_file() else None
    return Run(proc.returncode, proc.stdout, proc.stderr, report, seconds)


def _got(run: Run) -> str:
    if run.report is None:
        return f"no report (exit {run.returncode})"
    causes = run.report.get("causes") or []
    return causes[0]["category"] if causes else run.report.get("verdict", "?")


class _Table:
    """Prints script, expected, got and seconds for every script run, in the terminal summary."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, float]] = []

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.rows:
            return
        terminalreporter.section(f"deadpan on Keras scripts (backend {BACKEND})")
        width = max(len(r[0]) for r in self.rows)
        terminalreporter.write_line(f"{'script':<{width}}  {'expected':<24}{'got':<24}{'seconds':>8}")
        for script, expected, got, seconds in self.rows:
            mark = "" if expected == got else "  <-- differs"
            terminalreporter.write_line(f"{script:<{width}}  {expected:<24}{got:<24}{seconds:>8.1f}{mark}")
        terminalreporter.write_line(f"total {sum(r[3] for r in self.rows):.1f} s of script time")


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
        and _on_this_backend(item.callspec.params["script"])
    ]
    table = _Table()
    request.config.pluginmanager.register(table, "deadpan-keras-e2e-table")
    base = tmp_path_factory.mktemp("keras-e2e")
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
    for name, future in futures.items():
        if future.done() and not future.cancelled() and future.exception() is None:
            run = future.result()
            expected = EXPECTED[name] or "healthy"
            table.rows.append((name, expected, _got(run), run.seconds))


def _case(name: str) -> Any:
    reason = KNOWN_WRONG.get(f"{name}@{BACKEND}") or KNOWN_WRONG.get(name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    if name not in GATE:
        marks.append(pytest.mark.corpus)
    return pytest.param(name, marks=marks, id=name)


def test_every_script_has_an_expectation() -> None:
    on_disk = {p.stem for p in SCRIPTS.glob("*.py")}
    assert on_disk == set(EXPECTED), "add each script to EXPECTED (and remove entries for deleted ones)"
    assert {key.split("@")[0] for key in KNOWN_WRONG} <= set(EXPECTED)
    assert set(GATE) <= set(EXPECTED)


@pytest.mark.parametrize("script", [_case(n) for n in EXPECTED])
def test_script_diagnosis(script: str, runs: Callable[[str], Future[Run]]) -> None:
    if BACKEND != "tensorflow" and needs_tf(script):
        pytest.skip("the script imports TensorFlow (tf.data or tf.keras): TensorFlow backend only")
    if not _on_this_backend(script):
        pytest.skip(
            "runs on the torch backend; on TensorFlow only the scripts covering each capture path run"
        )
    run = runs(script).result()
    where = f"{script}.py on {BACKEND} ({run.seconds:.1f}s); deadpan's stderr ends:\n{run.stderr[-4000:]}"
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
