"""Monitoring must not change the training: plain and under ``deadpan run`` end bitwise identical."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

SCRIPT = Path(__file__).parent / "scripts" / "deterministic_train.py"


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def test_run_leaves_training_bitwise_identical(tmp_path: Path) -> None:
    plain_out, deadpan_out = tmp_path / "plain.pt", tmp_path / "deadpan.pt"
    plain = _run([sys.executable, str(SCRIPT), str(plain_out)])
    assert plain.returncode == 0, plain.stderr
    under = _run([sys.executable, "-m", "deadpan.cli", "run", str(SCRIPT), str(deadpan_out)])
    assert under.returncode == 0, under.stderr
    assert plain.stdout == under.stdout  # the script's own output is untouched
    assert "deadpan:" in under.stderr  # the report went to stderr
    a = torch.load(plain_out, weights_only=True)
    b = torch.load(deadpan_out, weights_only=True)
    assert torch.equal(a["rng"], b["rng"])
    for k, v in a["model"].items():
        assert torch.equal(v, b["model"][k]), k
    for k, state in a["opt"]["state"].items():
        for name, v in state.items():
            assert torch.equal(v, b["opt"]["state"][k][name]), (k, name)
