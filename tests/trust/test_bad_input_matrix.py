"""The bad-input matrix (README, "Bad input"): one row per kind of input that breaks diagnosis tools, each
through ``deadpan.diagnose`` and a recorded training (``run_callable``, as ``deadpan run`` and ``watch``
record). Every row ends in a report, never an exception from inside deadpan (no internal errors) and never a
changed user object (weights, buffers, train/eval mode, inputs); rows deadpan cannot judge say why in
plain words. ``tests/test_bad_input.py`` holds the script-level rows (NaN and inf data and losses, scripts
that raise or exit, structured outputs, tokens, sequences, images).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from factory import Structured
from torch import nn

import deadpan
from deadpan.script.autolog import run_callable

VERDICTS = {"collapsed", "degraded", "healthy", "inconclusive"}


@dataclasses.dataclass
class Row:
    """A model and data; ``adapt`` maps the model's output to the tensor the loss takes (structured outputs);
    ``expect``: the verdicts this row may give (an unjudgeable row: inconclusive, with ``says`` in its
    summary)."""

    model: nn.Module
    x: Any
    y: torch.Tensor
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = nn.functional.cross_entropy
    adapt: Callable[[Any], torch.Tensor] = lambda out: out
    expect: set[str] = dataclasses.field(default_factory=lambda: VERDICTS - {"inconclusive"})
    says: str = ""
    train: bool = True  # whether a recorded training makes sense for this row


def _xy(n: int = 64, d: int = 8, classes: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    x = torch.randn(classes, d, generator=g)[y] * 2 + torch.randn(n, d, generator=g)
    return x, y


def _mlp(d: int = 8, classes: int = 3, **kw: Any) -> nn.Module:
    return nn.Sequential(nn.Linear(d, 16, **kw), nn.ReLU(), nn.Linear(16, classes, **kw))


class Cast(nn.Module):
    """Takes inputs of any dtype (uint8 images, bool flags) and casts them, as user models do."""

    def __init__(self, inner: nn.Module, scale: float = 1.0) -> None:
        super().__init__()
        self.inner, self.scale = inner, scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.float().flatten(1) / self.scale)


class Unsqueeze(nn.Module):
    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.unsqueeze(1))


def _logits(out: Any) -> torch.Tensor:
    if isinstance(out, dict):
        return out["logits"]
    if isinstance(out, tuple):
        return out[0]
    return out.logits


def _rows() -> dict[str, Callable[[], Row]]:
    rows: dict[str, Callable[[], Row]] = {}

    def row(name: str) -> Callable[[Callable[[], Row]], Callable[[], Row]]:
        def add(make: Callable[[], Row]) -> Callable[[], Row]:
            rows[name] = make
            return make

        return add

    @row("empty dataset")
    def _() -> Row:
        x, y = torch.empty(0, 8), torch.empty(0, dtype=torch.long)
        return Row(_mlp(), x, y, expect={"inconclusive"}, says="no rows", train=False)

    @row("one sample")
    def _() -> Row:
        x, y = _xy(1)
        return Row(_mlp(), x, y, expect={"inconclusive"}, says="2 samples")

    @row("NaN model weights")
    def _() -> Row:
        m = _mlp()
        with torch.no_grad():
            m[0].weight[0, 0] = float("nan")
        return Row(m, *_xy(), expect={"collapsed"}, train=False)

    @row("inf inputs")
    def _() -> Row:
        x, y = _xy()
        x[3, 2] = float("inf")
        return Row(_mlp(), x, y, expect=VERDICTS)

    @row("NaN targets (regression)")
    def _() -> Row:
        x, _ = _xy()
        y = x[:, :1].clone()
        y[5] = float("nan")
        return Row(_mlp(classes=1), x, y, loss=nn.functional.mse_loss, expect=VERDICTS)

    @row("NaN class weights in the loss")
    def _() -> Row:
        weight = torch.tensor([1.0, float("nan"), 1.0])
        return Row(_mlp(), *_xy(), loss=nn.CrossEntropyLoss(weight=weight), expect=VERDICTS)

    @row("uint8 images")
    def _() -> Row:
        g = torch.Generator().manual_seed(0)
        y = torch.arange(64) % 3
        x = (torch.rand(64, 1, 6, 6, generator=g) * 80 + y.view(-1, 1, 1, 1) * 80).to(torch.uint8)
        return Row(Cast(_mlp(36), scale=255.0), x, y)

    @row("int64 tokens")
    def _() -> Row:
        y = torch.arange(64) % 3
        x = (y.view(-1, 1) * 10 + torch.arange(5)).long()
        return Row(nn.Sequential(nn.Embedding(40, 8), nn.Flatten(), nn.Linear(40, 3)), x, y)

    @row("bool inputs")
    def _() -> Row:
        y = torch.arange(64) % 3
        x = torch.nn.functional.one_hot(y, 8).bool()
        return Row(Cast(_mlp()), x, y)

    @row("float16 model and inputs")
    def _() -> Row:
        x, y = _xy()
        return Row(_mlp().half(), x.half(), y, expect=VERDICTS)

    @row("bfloat16 model and inputs")
    def _() -> Row:
        x, y = _xy()
        return Row(_mlp().bfloat16(), x.bfloat16(), y, expect=VERDICTS)

    @row("1-D inputs")
    def _() -> Row:
        y = torch.arange(64) % 3
        x = y.float() + 0.1 * torch.randn(64, generator=torch.Generator().manual_seed(0))
        return Row(Unsqueeze(_mlp(1)), x, y)

    @row("3-D inputs (sequences)")
    def _() -> Row:
        x, y = _xy(64, 8)
        x = x.view(64, 2, 4)
        return Row(
            nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3)), x, y
        )

    @row("4-D inputs (images)")
    def _() -> Row:
        x, y = _xy(64, 16)
        x = x.view(64, 1, 4, 4)
        return Row(
            nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 3)), x, y
        )

    @row("5-D inputs (volumes)")
    def _() -> Row:
        x, y = _xy(64, 8)
        x = x.view(64, 1, 2, 2, 2)
        return Row(nn.Sequential(nn.Conv3d(1, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3)), x, y)

    for kind in ("dict", "tuple", "dataclass", "HF ModelOutput", "multi-output"):

        def make(kind: str = kind) -> Row:
            if kind == "HF ModelOutput":
                pytest.importorskip("transformers")
            return Row(
                Structured("hf" if kind == "HF ModelOutput" else kind),
                *_xy(),
                adapt=_logits,
                loss=lambda o, t: nn.functional.cross_entropy(o, t),
            )

        rows[f"{kind} outputs"] = make

    @row("frozen parts")
    def _() -> Row:
        m = _mlp()
        m[0].requires_grad_(False)
        return Row(m, *_xy())

    @row("meta-device model")
    def _() -> Row:
        return Row(_mlp(device="meta"), *_xy(), expect={"inconclusive"}, says="meta", train=False)

    @row("50k-class output")
    def _() -> Row:
        x, y = _xy(64, 8, classes=3)
        return Row(_mlp(classes=50_000), x, y, expect=VERDICTS)

    return rows


ROWS = _rows()


def _state(row: Row) -> tuple[dict[str, torch.Tensor], list[bool], Any]:
    params = {k: v.detach().clone() for k, v in row.model.state_dict().items() if v.device.type != "meta"}
    x = row.x.clone() if isinstance(row.x, torch.Tensor) else row.x
    return params, [m.training for m in row.model.modules()], x


@pytest.mark.parametrize("name", list(ROWS))
def test_diagnose(name: str) -> None:
    row = ROWS[name]()
    before = _state(row)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = deadpan.diagnose(row.model, row.x, row.y, row.loss)  # deadpan takes the main output itself
    assert report.verdict in row.expect, (name, report.summary)
    assert report.internal_errors == (), (name, report.internal_errors)
    if row.says:
        assert row.says in report.summary.lower(), (name, report.summary)
    params, modes, x = _state(row)
    assert params.keys() == before[0].keys()
    for k in params:  # NaN weights stay NaN
        torch.testing.assert_close(params[k], before[0][k], rtol=0, atol=0, equal_nan=True)
    assert modes == before[1]
    assert not isinstance(x, torch.Tensor) or torch.equal(x, before[2])


@pytest.mark.parametrize("name", [n for n in ROWS if n != "empty dataset"])
def test_recorded_training(name: str) -> None:
    row = ROWS[name]()
    if not row.train:
        pytest.skip("nothing to train (the diagnose row covers it)")
    params = [p for p in row.model.parameters() if p.requires_grad]
    x_before = row.x.clone()

    def train() -> None:
        opt = torch.optim.SGD(params, lr=0.01)
        for step in range(30):
            rows = slice((step * 16) % max(1, len(row.x) - 15), (step * 16) % max(1, len(row.x) - 15) + 16)
            opt.zero_grad()
            loss = row.loss(row.adapt(row.model(row.x[rows])), row.y[rows])
            loss.float().backward()
            opt.step()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_callable(train)
    report = result.report
    assert result.status == 0, report.summary
    assert report.verdict in VERDICTS and report.internal_errors == (), (name, report.internal_errors)
    assert torch.equal(row.x, x_before)


SCRIPT = """
import os, sys, torch
from torch import nn
torch.manual_seed(0)
y = torch.arange(96) % 3
x = torch.randn(3, 8)[y] * 2 + torch.randn(96, 8)

def train(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(40):
        i = (step * 32) % 96
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[i:i + 32]), y[i:i + 32]).backward()
        opt.step()
        if MODE == "fork" and step == 10:
            pid = os.fork()
            if pid == 0:
                os._exit(0)  # a child that leaves at once (a data worker, a shell-out)
            os.waitpid(pid, 0)

MODE = sys.argv[1]
train(0)
if MODE == "two":
    train(1)
print("script done")
"""


@pytest.mark.parametrize("mode", ["fork", "two"])
def test_script_that_forks_or_trains_twice(mode: str, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT))
    proc = subprocess.run(
        [sys.executable, "-m", "deadpan.cli", "run", "--json", str(tmp_path / "r.json"), str(script), mode],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("script done") == 1
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.stderr.count("deadpan:") >= 1 and proc.stderr.count("Verdict") <= 1, proc.stderr[-3000:]
