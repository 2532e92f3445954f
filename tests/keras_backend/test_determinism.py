"""Monitoring must not change the training: a deterministic Keras script run plain and under ``deadpan run``
ends bitwise identical (weights, optimizer variables, RNG states), on the backend this session runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

SCRIPT = Path(__file__).parent / "scripts" / "deterministic_fit.py"
#: The children use this session's backend; one BLAS/OpenMP thread keeps them quick on a small machine.
ENV = {
    **os.environ,
    "KERAS_BACKEND": keras.backend.backend(),
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}


#: ``make test`` checks this on the TensorFlow backend, whose capture does the most (``tf.function`` traces
#: patched, variables read in the init scope); on the torch backend it is part of ``make e2e``.
pytestmark = [pytest.mark.corpus] if keras.backend.backend() != "tensorflow" else []


def _start(cmd: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


def _finish(p: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = p.communicate(timeout=300)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def test_run_leaves_keras_training_bitwise_identical(tmp_path: Path) -> None:
    plain_out, deadpan_out, report = (
        tmp_path / "plain.npz",
        tmp_path / "deadpan.npz",
        tmp_path / "report.json",
    )
    # The two runs side by side (one thread each): each is its own process, so neither can touch the other.
    started = (
        _start([sys.executable, str(SCRIPT), str(plain_out)]),
        _start(
            [sys.executable, "-m", "deadpan.cli", "run", "--json", str(report), str(SCRIPT), str(deadpan_out)]
        ),
    )
    plain, under = (_finish(p) for p in started)
    assert plain.returncode == 0, plain.stderr
    assert under.returncode == 0, under.stderr
    assert plain.stdout == under.stdout  # the script's own output (its losses, epoch by epoch) is untouched
    assert "deadpan:" in under.stderr  # the report went to stderr

    # deadpan saw the whole training: 3 epochs x 10 batches, 1 x 6, and 4 train_on_batch steps.
    metrics = json.loads(report.read_text())["metrics"]
    assert metrics["steps"] == 40, metrics

    a, b = np.load(plain_out), np.load(deadpan_out)
    assert sorted(a.files) == sorted(b.files)
    assert any(k.startswith("opt") for k in a.files)
    for k in a.files:
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k
