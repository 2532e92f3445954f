"""A small smoke subset of the fault zoo, through the real benchmark path: kill test, capture as
``deadpan run`` does it, diagnosis, figures, CLI and JSON."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deadpan.cli import app
from deadpan.zoo import bench, summary

#: Mutants that harm their task clearly and that deadpan must keep diagnosing right.
SMOKE = ["zero-init", "single-label", "step-missing", "loss-detached", "dead-relu"]


@pytest.fixture(scope="module")
def results() -> tuple[list[bench.MutantResult], list[bench.HealthyResult]]:
    # One task keeps ``make test`` short: the full zoo (``deadpan bench``) runs every task.
    sel = bench.select(quick=True, tasks=["digits-mlp"], operator_names=SMOKE)
    sel = bench.Selection(sel.tasks, bench.operators.mutants(sel.tasks), 2, 2)
    sel.mutants[:] = [m for m in sel.mutants if m.operator in SMOKE]
    return bench.run(sel, workers=2)


def test_smoke_mutants_are_killed_and_diagnosed(results: tuple) -> None:
    mutants, healthy = results
    assert len(mutants) == len(SMOKE)
    for m in mutants:
        assert m.crashed is None, m.crashed
        assert m.kill is not None and m.kill.killed, (m.id, m.scores)
        assert m.diagnosis is not None and m.diagnosis.ranked[:1] == [m.category], (m.id, m.diagnosis)
        # The diagnosed run is the median seed, trained again under capture: same seed, same score.
        assert m.diagnosis.seed == bench.representative_seed(m.scores)
        assert m.diagnosis.score == pytest.approx(m.scores[m.diagnosis.seed], abs=1e-6), m.id
    assert all(h.diagnosis is not None and h.diagnosis.verdict == "healthy" for h in healthy)


def test_representative_seed_is_the_lower_median() -> None:
    assert bench.representative_seed([0.9, 0.3, 0.5]) == 2
    assert bench.representative_seed([0.93, 0.33, 0.34, 0.35]) == 2  # lower of the middle two
    assert bench.representative_seed([0.5, 0.5, 0.5, 0.5]) == 1  # ties: the lower seed
    assert bench.representative_seed([0.7]) == 0


def test_figures(results: tuple) -> None:
    mutants, healthy = results
    s = summary.summarize(mutants, healthy, command="test", quick=True, workers=2, seconds=1.0)
    assert s["top1"] == 1.0 and s["top3"] == 1.0 and s["false_alarm_rate"] == 0.0
    assert s["n_mutants"] == len(mutants)
    assert set(s["per_category"]) == {m.category for m in mutants}
    assert all(row["recall"] == 1.0 for row in s["per_category"].values())
    json.dumps(s)  # serialisable


def test_cli_writes_json_and_markdown(tmp_path: Path) -> None:
    out, md = tmp_path / "acc.json", tmp_path / "acc.md"
    res = CliRunner().invoke(
        app,
        [
            "bench",
            "accuracy",
            "--quick",
            "--task",
            "fraud-binary",
            "--operator",
            "unbalance",
            "--workers",
            "1",
            "--json",
            str(out),
            "--markdown",
            str(md),
        ],
    )
    assert res.exit_code == 0, res.output
    s = json.loads(out.read_text())
    for key in ("top1", "top3", "false_alarm_rate", "n_mutants", "per_category", "confusion", "mutants"):
        assert key in s
    assert s["mutants"][0]["id"] == "fraud-binary/unbalance=0.05"
    assert "top-1 accuracy" in md.read_text()
    assert "top-1" in res.output


def test_cli_rejects_unknown_names() -> None:
    res = CliRunner().invoke(app, ["bench", "accuracy", "--task", "nope"])
    assert res.exit_code == 2 and "unknown task" in res.output
    res = CliRunner().invoke(app, ["bench", "accuracy", "--operator", "nope", "--framework", "torch"])
    assert res.exit_code == 2 and "unknown operator" in res.output
