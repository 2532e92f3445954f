"""``deadpan bench verify`` on two scenarios: one restored, one not counted (and why)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from deadpan.cli import app


def test_bench_verify_counts_a_restored_scenario(tmp_path: Path) -> None:
    out = tmp_path / "v.json"
    res = CliRunner().invoke(
        app,
        [
            "bench",
            "verify",
            "--only",
            "zero-init",
            "--only",
            "random-labels",
            "--framework",
            "torch",
            "--json",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    s = json.loads(out.read_text())
    assert s["n"] == 1 and s["restored"] == 1 and s["fraction"] == 1.0
    by_name = {o["name"]: o for o in s["scenarios"]}
    zero = by_name["zero-init"]
    assert zero["fix"] == "reinitialize" and zero["score"] >= 0.9 * zero["twin_score"]
    assert by_name["random-labels"]["counted"] is False and "no signal" in by_name["random-labels"]["reason"]
    assert "restored: 1/1" in res.output
