"""``deadpan.hf.DeadpanCallback`` with a real ``transformers.Trainer`` on a tiny BERT built from a config (no
downloads), and ``deadpan run`` (a subprocess: the import hook path) on a Trainer script without deadpan."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from deadpan.capture.live import CollapseWarning
from deadpan.hf import DeadpanCallback

from .conftest import SCRIPTS

hf_tiny = pytest.importorskip("hf_tiny")


def test_raised_learning_rate_alerts_within_50_steps_and_stops(tmp_path: Path) -> None:
    cb = DeadpanCallback(stop_on="collapsed", print_report=False, probes=False)
    trainer = hf_tiny.trainer(300, [hf_tiny.RaiseLearningRate(80), cb], str(tmp_path))
    with pytest.warns(CollapseWarning, match=r"collapsed at step \d+"):
        trainer.train()
    assert cb.alert is not None
    assert cb.alert.step >= 80 and cb.alert.fired_at - 80 <= 50, cb.alert
    assert trainer.state.global_step <= cb.alert.fired_at + 2  # control.should_training_stop
    report = cb.report
    assert report is not None and report.internal_errors == (), report.internal_errors
    assert report.verdict == "collapsed", str(report)
    rec = cb.session.recorder
    assert rec is not None and rec.loss is not None and rec.loss.function == "cross_entropy"
    assert rec.train_store.batches and rec.heldout_store.batches  # model(**batch): inputs by keyword
    assert report.metrics["hf_log"] and "grad_norm" in report.metrics["hf_log"][0]


def test_deadpan_run_adds_the_callback_to_a_trainer_script(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    cmd = [sys.executable, "-m", "deadpan.cli", "run", "--json", str(out), "-q", str(SCRIPTS / "hf_tiny.py")]
    done = subprocess.run([*cmd, "--steps", "120"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "CollapseWarning" not in done.stderr
    report = json.loads(out.read_text())
    assert report["verdict"] == "healthy", report["summary"]
    assert report["metrics"]["steps"] == 120 and report["internal_errors"] == []
    assert report["metrics"]["live"]["checks"] >= 10
