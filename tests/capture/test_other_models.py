"""Losses of other trained models (issue 18): a loss whose graph reaches another optimizer's parameters is
not the diagnosed model's (output, target) pair, so a GAN's discriminator labels are never paired with the
generator's noise, and a second model's batches never with the first model's."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from deadpan.capture.discovery import parameters_reached
from deadpan.capture.probe_inputs import ProbeInputs
from deadpan.script.autolog import run_callable


class OnePoint(nn.Module):
    """A generator that ignores its noise: the same sample for every ``z`` (mode collapse by construction)."""

    def __init__(self) -> None:
        super().__init__()
        self.point = nn.Parameter(torch.zeros(2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.point.expand(len(z), 2) + 0 * z[:, :2]


def _gan(collapsed: bool = False) -> None:
    torch.manual_seed(0)
    gen = OnePoint() if collapsed else nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    disc = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3)
    ones, zeros = torch.ones(32, 1), torch.zeros(32, 1)
    for _ in range(60):
        real = torch.randn(32, 2) + 3.0
        fake = gen(torch.randn(32, 4))
        opt_d.zero_grad()
        d_loss = F.binary_cross_entropy_with_logits(disc(real), ones)
        d_loss = d_loss + F.binary_cross_entropy_with_logits(disc(fake.detach()), zeros)
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        F.binary_cross_entropy_with_logits(disc(fake), ones).backward()
        opt_g.step()


def test_a_gan_is_judged_by_its_generators_samples_not_its_discriminators_accuracy() -> None:
    report = run_callable(_gan).report
    generator, discriminator = report.models
    assert generator.metrics["model"] == "model 1 (Sequential)"
    assert generator.verdict == "healthy", str(generator)
    assert generator.metrics["task"] == "generative"
    assert discriminator.verdict == "inconclusive"
    assert any("discriminator" in m for m in discriminator.missing), discriminator.missing
    assert report.verdict == "healthy" and report.metrics["model"] == generator.metrics["model"]


def test_a_generator_giving_one_sample_for_every_z_is_collapsed() -> None:
    report = run_callable(lambda: _gan(collapsed=True)).report
    assert report.verdict == "collapsed", str(report)
    assert "mode collapse" in report.summary
    assert report.metrics["model"] == "model 1 (OnePoint)"


def _two_models(second_lr: float = 3.0) -> None:
    torch.manual_seed(0)
    x = torch.randn(256, 6)
    y = (x[:, 0] + x[:, 1] > 0).long()
    for lr in (1e-2, second_lr):
        model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 2))
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        for _ in range(8):
            for i in range(0, 256, 32):
                opt.zero_grad()
                F.cross_entropy(model(x[i : i + 32]), y[i : i + 32]).backward()
                opt.step()


def test_each_model_is_diagnosed_on_its_own_and_the_worst_leads() -> None:
    result = run_callable(_two_models)  # the second model's lr is far too high
    first, second = result.report.models
    assert first.verdict == "healthy" and first.metrics["steps"] == 64, str(first)
    assert second.verdict in ("collapsed", "degraded"), str(second)
    assert (
        result.report.verdict == second.verdict and result.report.metrics["model"] == "model 2 (Sequential)"
    )
    assert isinstance(result.inputs, ProbeInputs) and result.inputs.recorder is not None
    assert result.inputs.recorder.model is not None and result.inputs.recorder.backward_calls == 64
    assert "model 1 (Sequential): HEALTHY" in str(result.report)


def test_a_second_models_losses_stay_out_of_the_first_models_recording() -> None:
    result = run_callable(lambda: _two_models(second_lr=1e-2))
    assert result.report.verdict == "healthy", str(result.report)
    assert isinstance(result.inputs, ProbeInputs) and result.inputs.recorder is not None
    first = result.inputs.recorder
    assert first.backward_calls == 64  # the second model's 64 backward calls are not the first's
    assert first.other_model_losses == 64


def test_the_parameters_a_loss_reaches_are_read_from_its_graph() -> None:
    a, b = nn.Linear(3, 3), nn.Linear(3, 1)
    loss = b(a(torch.randn(2, 3)).detach()).sum()
    reached = parameters_reached(loss)
    assert reached == {id(b.weight), id(b.bias)}
    assert parameters_reached(torch.ones(())) == set()
