"""The command line: run (json, max-steps, fail-on, exit codes, argv), checks, explain, demo."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deadpan.cli import _exit_code, app

COLLAPSING = textwrap.dedent(
    """
    import sys
    import torch
    from torch import nn

    print("argv", sys.argv[1:])
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for step in range(int(sys.argv[1]) if len(sys.argv) > 1 else 60):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    print("done", step + 1)
    """
)


def _deadpan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deadpan.cli", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_run_writes_json_keeps_argv_and_stdout(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(COLLAPSING)
    out = tmp_path / "r.json"
    res = _deadpan("run", "--json", str(out), str(script), "40", "--quiet")  # --quiet belongs to the script
    assert res.returncode == 0, res.stderr
    assert "argv ['40', '--quiet']" in res.stdout and "done 40" in res.stdout
    report = json.loads(out.read_text())
    assert report["schema"] == "deadpan.report/1"
    assert report["verdict"] == "collapsed"
    assert report["causes"][0]["category"] == "init.symmetry"
    assert "deadpan: COLLAPSED" in res.stderr


def test_max_steps_and_fail_on(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(COLLAPSING)
    res = _deadpan("run", "--max-steps", "7", "--fail-on", "collapsed", "--quiet", str(script), "500")
    assert res.returncode == 1  # collapsed, and --fail-on collapsed
    assert "done" not in res.stdout  # stopped after 7 steps
    assert res.stderr == ""  # --quiet


def test_missing_script_exits_2(tmp_path: Path) -> None:
    res = _deadpan("run", str(tmp_path / "nope.py"))
    assert res.returncode == 2
    assert "no such script" in res.stderr


def test_an_unknown_check_to_disable_exits_2_before_the_script_runs(tmp_path: Path) -> None:
    script = tmp_path / "plain.py"
    script.write_text("print('ran')\n")
    res = _deadpan("run", "--disable", "DP999", str(script))
    assert res.returncode == 2 and res.stdout == ""
    assert "--disable: no check 'DP999'" in res.stderr


def test_no_training_is_inconclusive_exit_2(tmp_path: Path) -> None:
    script = tmp_path / "plain.py"
    script.write_text("print('no training here')\n")
    out = tmp_path / "r.json"
    res = _deadpan("run", "--json", str(out), str(script))
    assert res.returncode == 2
    assert res.stdout == "no training here\n"
    report = json.loads(out.read_text())
    assert report["verdict"] == "inconclusive"
    assert "model" in report["summary"]


def test_exit_code_rules() -> None:
    assert _exit_code("healthy", 0, None) == 0
    assert _exit_code("collapsed", 0, None) == 0
    assert _exit_code("inconclusive", 0, None) == 2
    # An inconclusive judgement of a run that trained keeps the script's status (issue 18).
    assert _exit_code("inconclusive", 0, None, trained=True) == 0
    assert _exit_code("inconclusive", 3, None, trained=True) == 3
    assert _exit_code("healthy", 3, None) == 3
    assert _exit_code("degraded", 0, _fail("degraded")) == 1
    assert _exit_code("degraded", 0, _fail("collapsed")) == 0
    assert _exit_code("collapsed", 0, _fail("degraded")) == 1


def _fail(v: str) -> object:
    from deadpan.cli import FailOn

    return FailOn(v)


def test_checks_and_explain() -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["checks"])
    assert res.exit_code == 0 and "DP301" in res.output and "loss.mismatch" in res.output
    res = runner.invoke(app, ["explain", "DP301"])
    assert res.exit_code == 0
    assert "What it detects" in res.output and "Fix" in res.output
    res = runner.invoke(app, ["explain", "DP000"])
    assert res.exit_code == 2


def test_demo_runs_a_scenario(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["demo", "--only", "zero-init", "--json", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "1/1 diagnosed as expected" in res.output
    assert json.loads((tmp_path / "zero-init.json").read_text())["verdict"] == "collapsed"


def test_help_lists_commands() -> None:
    res = CliRunner().invoke(app, ["--help"])
    for cmd in ("run", "demo", "checks", "explain"):
        assert cmd in res.output


def test_ctrl_c_diagnoses_what_was_captured(tmp_path: Path) -> None:
    """Ctrl-C during the script: deadpan still diagnoses what it saw; exit status 130, as Python's."""
    import os
    import signal

    script = tmp_path / "train.py"
    script.write_text(COLLAPSING + "\nimport time\ntime.sleep(120)\n")
    out = tmp_path / "r.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "deadpan.cli", "run", "--json", str(out), str(script), "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # A test run started in the background (`make test &`) inherits SIGINT ignored, and Python then
        # never installs its KeyboardInterrupt handler: give the child the default disposition, as a
        # terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    assert "argv" in proc.stdout.readline()
    assert "done 60" in proc.stdout.readline()  # training finished; the script now sleeps
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err
    assert "KeyboardInterrupt" in err
    report = json.loads(out.read_text())
    assert report["verdict"] == "collapsed"
    assert report["causes"][0]["category"] == "init.symmetry"


SCRIPT_CLASS = textwrap.dedent(
    """
    import torch
    from torch import nn


    class Net(nn.Module):  # defined in the script: the trial workers get it by value
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
            for m in self.body:
                if isinstance(m, nn.Linear):
                    nn.init.zeros_(m.weight)
                    nn.init.zeros_(m.bias)

        def forward(self, x):
            return self.body(x)


    torch.manual_seed(0)
    x = torch.randn(512, 8)
    y = (x[:, 0] > 0).long()
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(4):
        for i in range(0, 512, 64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[i : i + 64]), y[i : i + 64]).backward()
            opt.step()
    print("trained")
    """
)


@pytest.mark.corpus  # 21 s of worker processes: make e2e (the local pool itself: tests/fixes/test_runner.py)
def test_run_verify_in_a_local_pool(tmp_path: Path) -> None:
    script = tmp_path / "zero_init.py"
    script.write_text(SCRIPT_CLASS)
    out = tmp_path / "r.json"
    res = _deadpan("run", "--verify", "--workers", "2", "--json", str(out), str(script))
    assert res.returncode == 0, res.stderr
    assert res.stdout == "trained\n"
    report = json.loads(out.read_text())
    top = report["causes"][0]
    assert top["category"] == "init.symmetry", report["summary"]
    assert top["verified"]["improved"] is True and top["verified"]["fix"] == "reinitialize"
    assert report["metrics"]["verification"]["runner"] == "2 local processes"
    assert "verified: re-initialising the weights" in res.stderr


def test_run_verify_hands_the_trials_to_the_ray_address_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--ray ADDRESS`` reaches the Ray runner with that address, before the script runs. Ray itself runs
    trials in ``tests/fixes/test_runner.py`` (its results match this process's there) and the report names
    the runner in ``test_run_verify_in_a_local_pool``: one Ray start in the suite, not two."""
    from deadpan.fixes import runner

    addresses: list[str] = []

    def stand_in(address: str, num_cpus: int | None = None) -> runner.Runner:
        addresses.append(address)
        raise runner.RunnerUnavailable(f"stand-in for Ray at {address}")

    monkeypatch.setattr(runner, "RayRunner", stand_in)
    script = tmp_path / "s.py"
    script.write_text("print('ran')\n")
    res = CliRunner().invoke(app, ["run", "--verify", "--ray", "local", str(script)])
    assert res.exit_code == 2 and addresses == ["local"]
    assert "stand-in for Ray at local" in res.output and "ran" not in res.output


def test_an_unreachable_ray_address_stops_before_the_script_runs(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("print('x')\n")
    res = _deadpan("run", "--verify", "--ray", "127.0.0.1:9", str(script))
    assert res.returncode == 2 and res.stdout == ""
    assert "could not reach the Ray cluster at '127.0.0.1:9'" in res.stderr or "pip install" in res.stderr


def test_workers_without_verify_is_an_error(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("print('x')\n")
    res = _deadpan("run", "--workers", "2", str(script))
    assert res.returncode == 2 and "--verify" in res.stderr
    assert res.stdout == ""  # the script did not run
