"""Fail-open monitoring, proven by fault injection: every hook, probe, check and report writer of deadpan
raises in turn (then returns NaN, then runs slowly), and each time

- the user's training completes with the same weights and random state as without deadpan;
- no exception reaches the user's code;
- a raised fault is listed in the report's internal errors (where the point ran at all);
- ``deadpan run`` exits with the script's own status.

The points are found by introspection (``faults.py``): a new event, probe or check is injected the day it
lands. ``test_every_point_was_reached`` guards against a harness that injects into code that never runs.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import deadpan
from deadpan.capture.build import build_evidence
from deadpan.findings import Report
from deadpan.pipeline import diagnose_evidence

from .faults import MODES, Point, check_points, event_points, injected, probe_points, report_points

STEPS = 45
RAISE_LR_AT = 10  # the learning rate jumps here: the output collapses and the live alert path runs
LR_RAISED = 2.0
#: Points reached in each kind's runs, filled by the tests (``test_every_point_was_reached`` reads it).
REACHED: dict[str, set[str]] = {}


def _train(watched: bool, probes: bool) -> tuple[dict[str, torch.Tensor], torch.Tensor, Report | None]:
    """A small MLP with dropout whose learning rate jumps at step 10 (the output collapses: live alert, quick
    diagnosis mid-run), through a DataLoader; returns its final weights, the RNG state and the report."""
    torch.manual_seed(0)
    x = torch.randn(512, 8)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    model = nn.Sequential(
        nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3)
    )  # dropout: the live checks re-run batches in inference mode, and must not draw from the user's RNG
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(
        TensorDataset(x, y), batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(1)
    )
    session = deadpan.watch(model, opt, probes=probes) if watched else contextlib.nullcontext()
    step = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with session as w:
            while step < STEPS:
                for xb, yb in loader:
                    if step == RAISE_LR_AT:
                        opt.param_groups[0]["lr"] = LR_RAISED
                    opt.zero_grad()
                    loss = nn.functional.cross_entropy(model(xb), yb)
                    loss.backward()
                    opt.step()
                    step += 1
                    if step == STEPS:
                        break
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return weights, torch.get_rng_state(), (w.report if watched else None)


@pytest.fixture(scope="module")
def reference() -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    weights, rng, _ = _train(watched=False, probes=False)
    return weights, rng


def _same_training(reference: tuple[dict[str, torch.Tensor], torch.Tensor], weights: Any, rng: Any) -> None:
    ref_weights, ref_rng = reference
    assert weights.keys() == ref_weights.keys()
    for k in weights:
        assert torch.equal(weights[k], ref_weights[k]), f"weights {k} differ from the run without deadpan"
    assert torch.equal(rng, ref_rng), "the global RNG state differs from the run without deadpan"


def _run_with_fault(point: Point, mode: str, reference: Any, probes: bool) -> None:
    with injected(point, mode) as calls:
        weights, rng, report = _train(watched=True, probes=probes)
    _same_training(reference, weights, rng)
    assert report is not None, "the watch block made no report"
    if calls[0]:
        REACHED.setdefault(point.kind, set()).add(point.id)
    if mode == "raise" and calls[0]:
        assert any("injected fault" in e for e in report.internal_errors), (point.id, report.internal_errors)


def _ids(points: list[Point]) -> list[str]:
    return [p.id for p in points]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("point", event_points(), ids=_ids(event_points()))
def test_event_fault_leaves_the_training_alone(point: Point, mode: str, reference: Any) -> None:
    _run_with_fault(point, mode, reference, probes=False)


@pytest.mark.parametrize("mode", ["raise"])  # probes run after the training, on copies (make test's time)
@pytest.mark.parametrize("point", probe_points(), ids=_ids(probe_points()))
def test_probe_fault_leaves_the_training_alone(point: Point, mode: str, reference: Any) -> None:
    _run_with_fault(point, mode, reference, probes=True)


@pytest.fixture(scope="module")
def evidence() -> Any:
    """The evidence of a collapsed run, for the checks (they read evidence only, after training)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        x = torch.randn(256, 8)
        y = (x[:, 0] > 0).long()
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
        opt = torch.optim.SGD(model.parameters(), lr=5.0)
        with deadpan.watch(model, opt, probes=False) as w:
            for i in range(40):
                opt.zero_grad()
                nn.functional.cross_entropy(
                    model(x[i % 8 * 32 : i % 8 * 32 + 32]), y[i % 8 * 32 : i % 8 * 32 + 32]
                ).backward()
                opt.step()
        from deadpan.capture.report import recorder_inputs

        assert w.recorder is not None
        return build_evidence(recorder_inputs(w.recorder, "watch", False))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("point", check_points(), ids=_ids(check_points()))
def test_check_fault_is_an_internal_error(point: Point, mode: str, evidence: Any) -> None:
    with injected(point, mode) as calls:
        report = diagnose_evidence(evidence)
    if calls[0]:
        REACHED.setdefault(point.kind, set()).add(point.id)
    if mode != "slow" and calls[0]:
        code = point.owner.code
        assert any(code in e for e in report.internal_errors), (point.id, report.internal_errors)
    assert report.verdict in ("collapsed", "degraded", "healthy", "inconclusive")


SCRIPT = textwrap.dedent(
    """
    import sys, torch
    from torch import nn
    torch.manual_seed(0)
    x, y = torch.randn(256, 8), torch.randint(0, 2, (256,))
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for i in range(30):
        rows = slice(i % 8 * 32, i % 8 * 32 + 32)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[rows]), y[rows]).backward()
        opt.step()
    torch.save(model.state_dict(), sys.argv[1])
    sys.exit(3)
    """
)

#: Runs ``deadpan run`` with one point injected (``faults.py`` is importable from this directory).
RUNNER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {here!r})
    import faults
    point = next(p for p in faults.all_points() if p.id == sys.argv[1])
    with faults.injected(point, sys.argv[2]):
        from deadpan.cli import main
        sys.argv = ["deadpan", "run", "--json", sys.argv[3], "--html", sys.argv[4], *sys.argv[5:]]
        main()
    """
)


@pytest.mark.parametrize(
    "point_id",
    ["event:Recorder.on_loss", "report:terminal.print_report"],  # the JSON and HTML writers: test_cli_writers
)
def test_deadpan_run_exits_with_the_scripts_status(point_id: str, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER.format(here=str(Path(__file__).parent)))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    weights = tmp_path / "w.pt"
    args = [str(tmp_path / "r.json"), str(tmp_path / "r.html"), str(script), str(weights)]
    proc = subprocess.run(
        [sys.executable, str(runner), point_id, "raise", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert weights.exists()  # the script ran to its end
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "injected fault" in proc.stderr, proc.stderr[-3000:]  # listed (report) or told (writer)


def _run_training(point: Point) -> tuple[dict[str, torch.Tensor], torch.Tensor, Report | None]:
    """The harness's training under ``deadpan run``'s recorder (``run_callable``: the optimizer is discovered
    when it is created), with ``point`` raising."""
    from deadpan.script.autolog import run_callable

    out: dict[str, Any] = {}

    def train() -> None:
        out["weights"], out["rng"], _ = _train(watched=False, probes=False)

    with injected(point, "raise") as calls, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_callable(train)
    assert result.status == 0 and result.ended == "finished", result
    if calls[0]:
        REACHED.setdefault(point.kind, set()).add(point.id)
    return out["weights"], out["rng"], result.report


RUN_POINTS = [p for p in event_points() if p.name in ("on_optimizer_created", "on_loader_iter", "on_loss")]


@pytest.mark.parametrize("point", RUN_POINTS, ids=_ids(RUN_POINTS))
def test_deadpan_run_fault_leaves_the_training_alone(point: Point, reference: Any) -> None:
    weights, rng, report = _run_training(point)
    _same_training(reference, weights, rng)
    assert report is not None and any("injected fault" in e for e in report.internal_errors), point.id


FRAMEWORK_POINTS = [p for p in event_points() if p.name in ("wake_for_step", "before_step", "after_step")]


def _lightning_fit(point: Point | None) -> tuple[dict[str, torch.Tensor], Any]:
    pytest.importorskip("lightning")
    sys.path.insert(0, str(Path(__file__).parents[1] / "frameworks" / "scripts"))
    import lightning_digits

    from deadpan.lightning import DeadpanCallback

    cb = DeadpanCallback(print_report=False, probes=False) if point is not None else None
    torch.manual_seed(0)
    train, val = lightning_digits.loaders()
    trainer = lightning_digits.trainer(60, [cb] if cb is not None else [])
    module = lightning_digits.Digits(raise_at=20)
    fault = injected(point, "raise") if point is not None else contextlib.nullcontext([0])
    with fault as calls, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(module, train, val)
    if point is not None and calls[0]:
        REACHED.setdefault(point.kind, set()).add(point.id)
    weights = {k: v.detach().clone() for k, v in module.state_dict().items()}
    return weights, cb


@pytest.mark.parametrize("point", FRAMEWORK_POINTS, ids=_ids(FRAMEWORK_POINTS))
def test_lightning_fault_leaves_the_training_alone(point: Point) -> None:
    plain, _ = _lightning_fit(None)
    weights, cb = _lightning_fit(point)
    for k in plain:
        assert torch.equal(plain[k], weights[k]), k
    assert cb.report is not None and any("injected fault" in e for e in cb.report.internal_errors), point.id


def test_cli_writers(tmp_path: Path) -> None:
    """``deadpan run --json --html`` with both writers raising: told on stderr, the script's status kept."""
    from typer.testing import CliRunner

    from deadpan.cli import app

    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    points = [p for p in report_points() if p.name in ("to_json", "to_html")]
    with injected(points[0], "raise"), injected(points[1], "raise"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        args = ["run", "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")]
        result = CliRunner().invoke(app, [*args, str(script), str(tmp_path / "w.pt")])
    assert result.exit_code == 3, result.output
    assert (
        "could not write the JSON report" in result.output
        and "could not write the HTML report" in result.output
    )


def test_every_point_was_reached() -> None:
    """Most injected points ran in the harness's trainings (a point never reached proves nothing); the counts
    are printed for the issue's record."""
    if not REACHED:
        pytest.skip("run with the injection tests above (it reads what they reached)")
    for kind, points in (("event", event_points()), ("probe", probe_points()), ("check", check_points())):
        reached = REACHED.get(kind, set())
        if not reached:  # this kind's tests were not selected (pytest -k)
            continue
        unreached = sorted({p.id for p in points} - reached)
        print(f"{kind}: {len(points)} points, {len(reached)} reached; not reached: {', '.join(unreached)}")
        assert len(reached) >= 0.7 * len(points), (kind, sorted({p.id for p in points} - reached))
