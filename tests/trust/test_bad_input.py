"""Bad input (spec: "Bad input"): scripts that raise, runs with nothing to diagnose, NaN/inf in the data,
the outputs or the loss, structured outputs, integer inputs, sequences and images.

Whatever the user hands deadpan, it answers with a report (or a clear "not observed" verdict), never with a
traceback from inside deadpan, and the script's own traceback and exit status stay the script's.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from factory import Output, Structured
from torch import nn

from deadpan.api import diagnose, watch
from deadpan.capture.loss_record import LossRecord
from deadpan.capture.losses import make_adapter
from deadpan.cli import _exit_code
from deadpan.findings import Finding, Report
from deadpan.script.autolog import RunResult, run_callable, run_script

#: Child processes run single-threaded too (see ``_one_thread``).
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """One thread for torch and BLAS: these models are tiny, and on a small shared machine their threads
    only wait on each other (minutes instead of seconds). Restored after this module."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(before)


#: Shared head of every temporary training script: a small, learnable 3-class problem.
HEADER = """\
import sys
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
N, CLASSES, FEATURES = 192, 3, 8
y = torch.arange(N) % CLASSES
x = torch.randn(CLASSES, FEATURES)[y] * 3 + torch.randn(N, FEATURES)
"""


def _script(tmp_path: Path, body: str, name: str = "train_script.py") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return path


def _finding(report: Report, code: str) -> Finding:
    found = [f for f in report.findings if f.code == code]
    assert found, f"no {code} finding in:\n{report}"
    return found[0]


def _cli(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deadpan.cli", "run", *args, str(path)],
        capture_output=True,
        text=True,
        cwd=path.parent,
        env=ENV,
        timeout=120,
    )


def _no_internal_errors(report: Report) -> None:
    assert report.internal_errors == (), f"{report.internal_errors}\n{report}"


# --- the script raises ------------------------------------------------------------------------------------

RAISING = """\
model = nn.Sequential(nn.Linear(FEATURES, 16), nn.ReLU(), nn.Linear(16, CLASSES))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)


def check_step(step):
    if step == 20:
        raise RuntimeError(f"boom at step {step}")


for step in range(40):
    i = (step * 32) % N
    opt.zero_grad()
    loss = F.cross_entropy(model(x[i : i + 32]), y[i : i + 32])
    loss.backward()
    opt.step()
    check_step(step + 1)
"""


def _traceback_of(stderr: str, last: str = "RuntimeError: boom at step 20") -> str:
    start = stderr.index("Traceback (most recent call last):")
    end = stderr.index(last, start)
    return stderr[start : end + len(last)]


def test_script_that_raises_shows_its_own_traceback_and_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _script(tmp_path, RAISING)
    result = run_script(path, [])
    err = capsys.readouterr().err

    assert result.status == 1
    assert result.ended == "exception"
    shown = _traceback_of(err)
    # As Python shows it: the first frame is the script's module, the next its function; no deadpan frames.
    frames = [line for line in shown.splitlines() if line.startswith('  File "')]
    assert frames[0].startswith(f'  File "{path}", line ') and frames[0].endswith(", in <module>")
    assert frames[1].endswith(", in check_step")
    assert len(frames) == 2, shown
    assert "deadpan" not in shown.replace(str(path), "") and "runpy" not in shown

    # ... byte for byte what `python script.py` prints.
    plain = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=ENV, timeout=120)
    assert plain.returncode == 1
    assert _traceback_of(plain.stderr) == shown

    # deadpan still diagnoses the 20 steps it saw.
    report = result.report
    _no_internal_errors(report)
    assert report.metrics["steps"] == 20
    assert report.verdict == "healthy", str(report)


def test_error_inside_an_instrumented_torch_call_shows_no_deadpan_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The script's own bug (targets one row longer than the batch) raises inside F.cross_entropy, which
    # deadpan wraps while the script runs; Python alone shows the script's frame, then torch's.
    body = """\
    model = nn.Linear(FEATURES, CLASSES)
    loss = F.cross_entropy(model(x[:8]), y[:9])
    """
    path = _script(tmp_path, body)
    result = run_script(path, [])
    shown = _traceback_of(capsys.readouterr().err, "ValueError: Expected input batch_size")
    assert result.status == 1
    plain = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=ENV, timeout=120)
    assert _traceback_of(plain.stderr, "ValueError: Expected input batch_size") == shown
    assert "instrument.py" not in shown


def test_script_that_raises_before_any_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _script(tmp_path, "raise ValueError('no data file')\n")
    result = run_script(path, [])
    err = capsys.readouterr().err
    assert result.status == 1
    assert "ValueError: no data file" in err
    assert result.report.verdict == "inconclusive"
    assert any("model" in m for m in result.report.missing)
    # The script's status wins over the inconclusive verdict's 2.
    assert _exit_code(result.report.verdict, result.status, None) == 1


# --- nothing to diagnose ----------------------------------------------------------------------------------


def test_no_model_is_inconclusive_with_a_clear_message(tmp_path: Path) -> None:
    path = _script(tmp_path, "print('loaded', len(x), 'rows')\n")
    result = run_script(path, [])
    report = result.report
    assert result.status == 0
    assert report.verdict == "inconclusive"
    assert any("a model" in m for m in report.missing), report.missing
    assert "did not observe a model" in report.summary
    assert _exit_code(report.verdict, result.status, None) == 2
    _no_internal_errors(report)


def test_no_training_step_is_inconclusive_with_a_clear_message(tmp_path: Path) -> None:
    body = """\
    model = nn.Sequential(nn.Linear(FEATURES, 16), nn.ReLU(), nn.Linear(16, CLASSES))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with torch.no_grad():
        print("initial loss", float(F.cross_entropy(model(x), y)))
    """
    result = run_script(_script(tmp_path, body), [])
    report = result.report
    assert report.verdict == "inconclusive"
    assert any("training step" in m for m in report.missing), report.missing
    assert "did not observe a training step" in report.summary
    assert _exit_code(report.verdict, result.status, None) == 2
    _no_internal_errors(report)


def test_cli_exits_2_when_nothing_was_observed(tmp_path: Path) -> None:
    path = _script(tmp_path, "print('hello from the script')\n")
    report_path = tmp_path / "report.json"
    done = _cli(path, "--json", str(report_path))
    assert done.returncode == 2, done.stderr
    assert done.stdout == "hello from the script\n"  # the script's stdout is untouched
    assert "did not observe a model" in " ".join(done.stderr.split())
    assert json.loads(report_path.read_text())["verdict"] == "inconclusive"


def test_exit_codes() -> None:
    assert _exit_code("inconclusive", 0, None) == 2
    assert _exit_code("inconclusive", 1, None) == 1
    assert _exit_code("healthy", 0, None) == 0
    assert _exit_code("collapsed", 0, None) == 0


# --- NaN and inf --------------------------------------------------------------------------------------------

LOOP = """\
model = nn.Sequential(nn.Linear(FEATURES, 16), nn.ReLU(), nn.Linear(16, CLASSES))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(30):
    i = (step * 32) % N
    opt.zero_grad()
    loss = F.cross_entropy(model(x[i : i + 32]), y[i : i + 32])
    loss.backward()
    opt.step()
"""


@pytest.mark.parametrize(
    ("value", "step"), [("float('nan')", 0), ("float('inf')", 4)], ids=["nan-from-step-0", "inf-from-step-4"]
)
def test_nonfinite_inputs_give_a_finding_with_the_first_step(tmp_path: Path, value: str, step: int) -> None:
    # Row 32 * step + 5 is in the batch of that step (and of no earlier one).
    body = f"x[32 * {step} + 5, 2] = {value}\n" + LOOP
    report = run_script(_script(tmp_path, body), []).report
    _no_internal_errors(report)
    finding = _finding(report, "DP112")
    assert finding.evidence["nonfinite_input_step"] == step
    assert finding.evidence["first_step"] == step
    assert f"from step {step}" in finding.message
    assert report.top_cause == "data.inputs", str(report)
    assert report.verdict == "collapsed", str(report)


def test_nonfinite_targets_give_a_finding_with_the_first_step(tmp_path: Path) -> None:
    body = """\
    target = x @ torch.randn(FEATURES, 1)
    target[32 * 3 + 1, 0] = float("nan")
    model = nn.Sequential(nn.Linear(FEATURES, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(30):
        i = (step * 32) % N
        opt.zero_grad()
        loss = F.mse_loss(model(x[i : i + 32]), target[i : i + 32])
        loss.backward()
        opt.step()
    """
    report = run_script(_script(tmp_path, body), []).report
    _no_internal_errors(report)
    finding = _finding(report, "DP112")
    assert finding.evidence["nonfinite_target_step"] == 3
    assert finding.evidence["nonfinite_input_step"] is None
    assert report.verdict == "collapsed", str(report)
    assert report.top_cause == "data.inputs", str(report)


def test_loss_that_goes_nonfinite_under_a_huge_lr(tmp_path: Path) -> None:
    # The script notes the first step whose loss is not finite itself; deadpan must report that same step.
    body = """\
    target = (x @ torch.randn(FEATURES, 1)) * 10
    model = nn.Sequential(nn.Linear(FEATURES, 32), nn.ReLU(), nn.Linear(32, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    first = None
    for step in range(30):
        i = (step * 32) % N
        opt.zero_grad()
        loss = F.mse_loss(model(x[i : i + 32]), target[i : i + 32])
        if first is None and not torch.isfinite(loss):
            first = step
        loss.backward()
        opt.step()
    open(sys.argv[1], "w").write(str(first))
    """
    out = tmp_path / "first_nonfinite.txt"
    result = run_script(_script(tmp_path, body), [str(out)])
    first = int(out.read_text())
    assert first > 0  # finite at first: the lr, not the data, makes it NaN
    report = result.report
    _no_internal_errors(report)
    finding = _finding(report, "DP401")
    assert finding.evidence["first_nonfinite_loss_step"] == first
    assert f"non-finite at step {first}" in finding.message
    assert report.top_cause == "optim.lr_too_high", str(report)
    assert report.verdict == "collapsed", str(report)
    assert not any(f.code == "DP112" for f in report.findings)


def test_model_whose_outputs_are_nan(tmp_path: Path) -> None:
    # Finite data; the model's own forward makes NaN (log of negative features) from the first step.
    body = """\
    class LogNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(FEATURES, CLASSES)

        def forward(self, inp):
            return self.fc(torch.log(inp))

    model = LogNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(20):
        i = (step * 32) % N
        opt.zero_grad()
        loss = F.cross_entropy(model(x[i : i + 32]), y[i : i + 32])
        loss.backward()
        opt.step()
    """
    report = run_script(_script(tmp_path, body), []).report
    _no_internal_errors(report)
    assert report.verdict == "collapsed", str(report)
    assert "NaN" in report.summary
    finding = _finding(report, "DP401")
    assert finding.evidence["first_nonfinite_loss_step"] == 0
    assert not any(f.code == "DP112" for f in report.findings)  # the inputs were finite


def test_diagnose_with_nan_inputs() -> None:
    torch.manual_seed(0)
    x = torch.randn(128, 8)
    y = (x[:, 0] > 0).long()
    x[7, 3] = float("nan")
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    report = diagnose(model, x, y)
    _no_internal_errors(report)
    finding = _finding(report, "DP112")
    assert finding.evidence["sample_nonfinite_inputs"] == 1
    assert finding.evidence["first_row"] == 7 and finding.evidence["rows_read"] == 128


# --- structured outputs ---------------------------------------------------------------------------------


def logits_of(out: Any) -> torch.Tensor:
    if isinstance(out, tuple):
        return out[1] if out[0].shape[1] != 3 else out[0]
    if isinstance(out, dict):
        return out.get("logits", out.get("scores"))  # type: ignore[no-any-return]
    if isinstance(out, Output):
        return out.logits
    return out  # type: ignore[no-any-return]


def blobs(n: int = 192) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 3
    x = torch.randn(3, 8, generator=g)[y] * 3 + torch.randn(n, 8, generator=g)
    return x, y


def _loop(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    loss: Callable[[Any, torch.Tensor], torch.Tensor],
    steps: int = 30,
    batch: int = 32,
) -> None:
    for step in range(steps):
        i = (step * batch) % len(x)
        opt.zero_grad()
        loss(model(x[i : i + batch]), y[i : i + batch]).backward()
        opt.step()


def _ce_on_logits(out: Any, target: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits_of(out), target)


STRUCTURED = ["tuple", "tuple-logits-last", "dict", "dict-other-key", "dataclass"]


@pytest.mark.parametrize("kind", STRUCTURED)
def test_structured_outputs_through_run(kind: str) -> None:
    x, y = blobs()

    def train() -> None:
        torch.manual_seed(0)
        model = Structured(kind)
        _loop(model, torch.optim.Adam(model.parameters(), lr=1e-2), x, y, _ce_on_logits)

    report = run_callable(train).report
    _no_internal_errors(report)
    assert report.verdict == "healthy", str(report)
    assert report.metrics["task"] == "multiclass"


@pytest.mark.parametrize("kind", STRUCTURED)
def test_structured_outputs_through_watch(kind: str) -> None:
    x, y = blobs()
    torch.manual_seed(0)
    model = Structured(kind)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    with watch(model, opt) as w:
        _loop(model, opt, x, y, _ce_on_logits)
    assert w.report is not None
    _no_internal_errors(w.report)
    assert w.report.verdict == "healthy", str(w.report)


@pytest.mark.parametrize("kind", ["tuple", "dict", "dataclass"])
def test_structured_outputs_through_diagnose(kind: str) -> None:
    x, y = blobs()
    torch.manual_seed(0)
    model = Structured(kind)
    _loop(model, torch.optim.Adam(model.parameters(), lr=1e-2), x, y, _ce_on_logits)
    report = diagnose(model, x, y)
    _no_internal_errors(report)
    assert report.verdict == "healthy", str(report)


def test_structured_output_collapse_is_still_seen() -> None:
    # The same tuple-returning model, broken (a huge lr): the verdict must not be "healthy".
    x, y = blobs()

    def train() -> None:
        torch.manual_seed(0)
        model = Structured("tuple-logits-last")
        _loop(model, torch.optim.SGD(model.parameters(), lr=50.0), x, y, _ce_on_logits)

    report = run_callable(train).report
    _no_internal_errors(report)
    assert report.verdict in ("collapsed", "degraded"), str(report)


def test_adapter_takes_the_tensor_the_loss_took() -> None:
    n = 4
    hidden, logits, ids = torch.randn(n, 16), torch.randn(n, 3), torch.arange(n)[:, None].repeat(1, 3)

    def record(inp: torch.Tensor) -> LossRecord:
        return LossRecord("cross_entropy", inp, torch.zeros(n, dtype=torch.long), {})

    adapt = make_adapter(record(logits))
    assert adapt((hidden, logits)) is logits
    assert adapt({"ids": ids, "hidden": hidden, "scores": logits}) is logits  # not the integer ids
    assert adapt(Output(hidden=hidden, logits=logits)) is logits
    # (n, length, classes) from the model, (n, classes, length) into the loss: permuted back, not reshaped.
    seq = torch.randn(n, 5, 3)
    assert torch.equal(make_adapter(record(seq.transpose(1, 2)))(seq), seq.transpose(1, 2))
    # A squeeze between model and loss.
    assert make_adapter(record(logits[:, 0]))(logits[:, :1]).shape == (n,)
    # Nothing known about the loss: the main tensor; no tensor at all: a clear error.
    assert make_adapter(None)((hidden, logits)) is hidden
    with pytest.raises(ValueError, match="holds no tensor"):
        make_adapter(None)({"text": "no tensor here"})


# --- integer inputs -------------------------------------------------------------------------------------


class BagOfWords(nn.Module):
    def __init__(self, vocab: int = 40, dim: int = 16, classes: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(tokens).mean(1))


def tokens(n: int = 192, length: int = 12, vocab: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    """Class 0 draws most tokens from the lower half of the vocabulary, class 1 from the upper half."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    half = vocab // 2
    own = torch.randint(0, half, (n, length), generator=g) + half * y[:, None]
    noise = torch.randint(0, vocab, (n, length), generator=g)
    keep = torch.rand(n, length, generator=g) < 0.8
    return torch.where(keep, own, noise), y


def test_integer_token_inputs_through_run() -> None:
    x, y = tokens()

    def train() -> None:
        torch.manual_seed(0)
        model = BagOfWords()
        _loop(model, torch.optim.Adam(model.parameters(), lr=3e-2), x, y, F.cross_entropy)

    report = run_callable(train).report
    _no_internal_errors(report)
    assert report.verdict == "healthy", str(report)


def test_integer_token_inputs_through_watch_and_diagnose() -> None:
    x, y = tokens()
    torch.manual_seed(0)
    model = BagOfWords()
    opt = torch.optim.Adam(model.parameters(), lr=3e-2)
    with watch(model, opt) as w:
        _loop(model, opt, x, y, F.cross_entropy)
    assert w.report is not None
    _no_internal_errors(w.report)
    assert w.report.verdict == "healthy", str(w.report)

    report = diagnose(model, x.numpy(), y.numpy())  # NumPy int64 arrays, as from a notebook
    _no_internal_errors(report)
    assert report.verdict == "healthy", str(report)


def test_diagnose_numpy_float64_into_a_double_model() -> None:
    x, y = blobs()
    torch.manual_seed(0)
    model = Structured("tuple").double()
    _loop(model, torch.optim.Adam(model.parameters(), lr=1e-2), x.double(), y, _ce_on_logits)
    report = diagnose(model, x.double().numpy(), y.numpy())
    _no_internal_errors(report)
    assert report.verdict == "healthy", str(report)


def test_collapsed_token_model_is_seen() -> None:
    # A head with zero weights and a biased bias answers class 0 for every token sequence.
    x, y = tokens()
    model = BagOfWords()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.copy_(torch.tensor([1.0, 0.0]))
    report = diagnose(model, x, y)
    _no_internal_errors(report)
    assert report.verdict == "collapsed", str(report)


# --- sequences (3-D) and images (4-D) ---------------------------------------------------------------------


def sequences(n: int = 192, channels: int = 2, length: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, channels, length): the class sets the level of channel 0."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 3
    x = torch.randn(n, channels, length, generator=g)
    x[:, 0] += (y[:, None].float() - 1.0) * 2.0
    return x, y


class Conv1dNet(nn.Module):
    def __init__(self, bias: float = 0.0) -> None:
        super().__init__()
        self.conv = nn.Conv1d(2, 8, 3, padding=1)
        self.head = nn.Linear(8, 3)
        if bias:
            with torch.no_grad():
                self.conv.bias.fill_(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(F.relu(self.conv(x)).mean(-1))


class GRUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(2, 16, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x.transpose(1, 2))  # (n, length, channels) into the GRU
        return self.head(out[:, -1])


class Tagger(nn.Module):
    """Per-position classes from a GRU: (n, length, classes), moved to (n, classes, length) for the loss."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(2, 16, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x.transpose(1, 2))
        return self.head(out)


def _tag_loss(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(out.transpose(1, 2), target)


class Conv2dNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.ReLU(),
        )
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((2, 3)))


def images(n: int = 192) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 1, 8, 8) noise with one bright quadrant; the class is which quadrant."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 4
    x = torch.randn(n, 1, 8, 8, generator=g) * 0.5
    for q in range(4):
        r, c = divmod(q, 2)
        x[y == q, :, 4 * r : 4 * r + 4, 4 * c : 4 * c + 4] += 2.0
    return x, y


def _run(
    make: Callable[[], nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    loss: Callable[[Any, torch.Tensor], torch.Tensor] | None = None,
    lr: float = 1e-2,
) -> RunResult:
    def train() -> None:
        torch.manual_seed(0)
        model = make()
        # F.cross_entropy looked up at call time, as a script would: deadpan instruments torch's functions.
        _loop(model, torch.optim.Adam(model.parameters(), lr=lr), x, y, loss or F.cross_entropy)

    return run_callable(train)


def test_conv1d_on_sequences() -> None:
    x, y = sequences()
    report = _run(Conv1dNet, x, y).report
    _no_internal_errors(report)
    assert report.verdict == "healthy", str(report)


def test_conv1d_dead_channels_are_seen() -> None:
    # Every Conv1d channel starts far below zero: ReLU kills them all and the output is constant.
    x, y = sequences()
    report = _run(lambda: Conv1dNet(bias=-50.0), x, y, lr=1e-3).report
    _no_internal_errors(report)
    assert report.verdict == "collapsed", str(report)
    dead = _finding(report, "DP220")
    assert dead.evidence["units"] == 8  # the 8 Conv1d channels, not the 16 positions


def test_gru_on_sequences() -> None:
    x, y = sequences()
    report = _run(GRUNet, x, y).report
    _no_internal_errors(report)
    assert report.verdict == "healthy", str(report)


def test_gru_tagger_with_per_position_targets() -> None:
    x, _ = sequences()
    tags = (x[:, 0] > 0).long() + (x[:, 1] > 1).long()  # (n, length) per-position classes
    report = _run(Tagger, x, tags, loss=_tag_loss).report
    _no_internal_errors(report)
    assert report.verdict == "healthy", str(report)
    assert report.metrics["task"] == "multiclass"


def test_conv2d_on_images() -> None:
    x, y = images()
    report = _run(Conv2dNet, x, y).report
    _no_internal_errors(report)
    assert report.verdict == "healthy", str(report)


def test_conv2d_through_watch_and_diagnose() -> None:
    x, y = images()
    torch.manual_seed(0)
    model = Conv2dNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    with watch(model, opt) as w:
        _loop(model, opt, x, y, F.cross_entropy)
    assert w.report is not None
    _no_internal_errors(w.report)
    assert w.report.verdict == "healthy", str(w.report)
    report = diagnose(model, x, y)
    _no_internal_errors(report)
    assert report.verdict == "healthy", str(report)


def test_untrained_constant_conv2d_is_collapsed() -> None:
    x, y = images()
    torch.manual_seed(0)
    model = Conv2dNet()
    with torch.no_grad():
        model.head.weight.zero_()
    report = diagnose(model, x, y)
    _no_internal_errors(report)
    assert report.verdict == "collapsed", str(report)
    assert math.isclose(report.collapse.majority_share or 0.0, 1.0)
