"""Property-based tests (hypothesis) over generated architectures and data: ``deadpan.diagnose`` never
raises, never changes the model (weights, buffers, train/eval mode) or the random state, and its verdict does
not depend on the order of the rows for a fixed model.

The generator covers what breaks diagnosis tools: 1 to 3 layers of 1 to 12 units, ReLU/tanh/sigmoid or no
activation, dropout or batch norm, zero or huge initial weights, inputs that are constant, tiny or huge,
multiclass, binary and regression targets. The examples are derandomized (the same ones every run: a failure
is reproducible), and no example database is written.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import deadpan

VERDICTS = {"collapsed", "degraded", "healthy", "inconclusive"}
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass
class Setup:
    model: nn.Module
    x: torch.Tensor
    y: torch.Tensor
    loss: Any
    description: str


@st.composite
def setups(draw: st.DrawFn) -> Setup:
    seed = draw(st.integers(0, 2**16))
    n = draw(st.integers(8, 48))
    d = draw(st.integers(1, 6))
    depth = draw(st.integers(0, 2))
    width = draw(st.integers(1, 12))
    act = draw(st.sampled_from(["relu", "tanh", "sigmoid", "none"]))
    extra = draw(st.sampled_from(["none", "dropout", "batchnorm"]))
    task = draw(st.sampled_from(["multiclass", "binary", "regression"]))
    scale = draw(st.sampled_from([0.0, 1e-3, 1.0, 1e3]))
    init = draw(st.sampled_from(["default", "zeros", "large"]))
    classes = draw(st.integers(2, 5))

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g) * scale
    out = {"multiclass": classes, "binary": 1, "regression": 1}[task]
    layers: list[nn.Module] = []
    fan_in = d
    for _ in range(depth):
        layers.append(nn.Linear(fan_in, width))
        if extra == "batchnorm":
            layers.append(nn.BatchNorm1d(width))
        if act != "none":
            layers.append({"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[act]())
        if extra == "dropout":
            layers.append(nn.Dropout(0.3))
        fan_in = width
    layers.append(nn.Linear(fan_in, out))
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for p in model.parameters():
            if init == "zeros":
                p.zero_()
            elif init == "large":
                p.copy_(torch.randn(p.shape, generator=g) * 10)
            else:
                p.copy_(torch.randn(p.shape, generator=g) / max(1, p.shape[-1]) ** 0.5)
    if task == "multiclass":
        y = torch.randint(0, classes, (n,), generator=g)
        loss: Any = nn.CrossEntropyLoss()
    elif task == "binary":
        y = (torch.rand(n, 1, generator=g) > 0.5).float()
        loss = nn.BCEWithLogitsLoss()
    else:
        y = torch.randn(n, 1, generator=g)
        loss = nn.MSELoss()
    model.train(draw(st.booleans()))
    description = f"{task} n={n} d={d} depth={depth} width={width} {act} {extra} x*{scale} init={init}"
    return Setup(model, x, y, loss, description)


def _diagnose(s: Setup, x: torch.Tensor, y: torch.Tensor) -> deadpan.Report:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return deadpan.diagnose(s.model, x, y, s.loss)


@SETTINGS
@given(setups())
def test_diagnose_never_raises_and_never_changes_the_model(s: Setup) -> None:
    state = {k: v.clone() for k, v in s.model.state_dict().items()}
    modes = [m.training for m in s.model.modules()]
    rng = torch.get_rng_state()
    report = _diagnose(s, s.x, s.y)
    assert report.verdict in VERDICTS, s.description
    assert report.internal_errors == (), (s.description, report.internal_errors)
    after = s.model.state_dict()
    for k, v in state.items():
        assert torch.equal(v, after[k]), (s.description, k)
    assert [m.training for m in s.model.modules()] == modes, s.description
    assert torch.equal(torch.get_rng_state(), rng), s.description


@SETTINGS
@given(setups(), st.randoms(use_true_random=False))
def test_the_verdict_does_not_depend_on_the_row_order(s: Setup, rnd: Any) -> None:
    order = list(range(len(s.x)))
    rnd.shuffle(order)
    first = _diagnose(s, s.x, s.y)
    second = _diagnose(s, s.x[order], s.y[order])
    assert first.verdict == second.verdict, (s.description, first.summary, second.summary)
