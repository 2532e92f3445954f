"""DP223: the gradient-flow audit finds the layers no loss reaches, from a real run's recorded gradients."""

from __future__ import annotations

from dataclasses import replace

import torch
from factory import blobs, healthy, output_probe
from torch import nn

from deadpan.checks.model.gradient_never_reaches import GradientNeverReaches
from deadpan.script.autolog import run_callable


class DroppedEncoder(nn.Module):
    """Computes an encoding of its input and drops it: the head sees a constant, the output is one answer."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 32), nn.ReLU())
        self.head = nn.Linear(32, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        state = torch.ones_like(h)  # BUG: the encoding is never passed on
        return self.head(state)


def _train(make: type[nn.Module] = DroppedEncoder) -> None:
    """Train ``make()`` on the blobs for 60 Adam steps."""
    x, y = blobs()
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    torch.manual_seed(0)
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(60):
        i = slice((step * 32) % 288, (step * 32) % 288 + 32)
        opt.zero_grad()
        nn.functional.cross_entropy(model(xt[i]), yt[i]).backward()
        opt.step()


def test_a_dropped_encoder_is_named_as_the_cause() -> None:
    result = run_callable(_train)
    assert result.evidence is not None and result.evidence.training is not None
    assert set(result.evidence.training.unreached) == {"encoder.0.weight", "encoder.0.bias"}
    report = result.report
    assert report.verdict == "collapsed"
    assert report.causes[0].category == "model.capacity"
    found = next(f for f in report.findings if f.code == "DP223")
    assert "`encoder.0`" in found.message and "forward" in found.fix


def test_silent_when_every_parameter_gets_a_gradient_or_the_model_is_healthy() -> None:
    ev = healthy()
    assert ev.training is not None
    assert GradientNeverReaches().judge(ev) is None
    unreached = replace(ev.training, unreached=("0.weight", "0.bias"), unreached_elements=160)
    assert GradientNeverReaches().judge(replace(ev, training=unreached)) is None  # healthy output
    probe = output_probe(distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.0, score=1 / 3)
    broken = replace(ev, training=unreached, probes=replace(ev.probes, train_output=probe))
    found = GradientNeverReaches().judge(broken)
    assert found is not None and found.category == "model.capacity" and "`0`" in found.message


class RoundedCode(nn.Module):
    """Rounds its hidden code to integers: the encoder's gradient is zero at every step."""

    def __init__(self, op: str = "round") -> None:
        super().__init__()
        self.encoder = nn.Linear(4, 32)
        self.head = nn.Linear(32, 3)
        self.op = getattr(torch, op)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.op(torch.relu(self.encoder(x)) * 0.1))


def test_the_operation_where_the_gradient_dies_is_named() -> None:
    result = run_callable(lambda: _train(RoundedCode))
    assert result.evidence is not None and result.evidence.training is not None
    assert result.evidence.training.gradient_cuts == {"round": ("encoder.weight", "encoder.bias")}
    report = result.report
    assert report.verdict in ("collapsed", "degraded")
    assert report.causes[0].category == "model.capacity"
    found = next(f for f in report.findings if f.code == "DP223")
    assert "`round`" in found.message and "`encoder`" in found.message
    assert "straight-through" in found.fix


def test_gradient_cuts_only_where_no_other_path_carries_a_gradient() -> None:
    from deadpan.capture.gradient_flow import model_gradient_cuts

    torch.manual_seed(0)
    model = RoundedCode("sign")
    x = torch.randn(8, 4)
    cut = model(x).sum()
    assert model_gradient_cuts(model, cut) == {"sign": ("encoder.weight", "encoder.bias")}
    # A residual path around the sign carries the gradient: nothing is cut.
    h = torch.relu(model.encoder(x))
    around = model.head(torch.sign(h) + h).sum()
    assert model_gradient_cuts(model, around) == {}
    # A straight-through estimator detaches the sign: nothing is cut either.
    ste = model.head(h + (torch.sign(h) - h).detach()).sum()
    assert model_gradient_cuts(model, ste) == {}
