"""``deadpan.diagnose(..., optimizer=opt)``: the optimizer's parameters are compared with the user's own
model, not with the copy the probes run on (issue 18: a healthy model was called `train.loop`, DP504 "100% of
parameters in no optimizer group")."""

from __future__ import annotations

import torch
from torch import nn

import deadpan


def _trained() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    x = torch.randn(256, 6)
    y = (x[:, 0] + x[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model, x, y


def test_an_optimizer_over_every_parameter_is_no_finding() -> None:
    model, x, y = _trained()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    report = deadpan.diagnose(model, x, y, loss_fn=nn.functional.cross_entropy, optimizer=opt)
    assert "DP504" not in {f.code for f in report.findings}, report.summary
    assert report.verdict == "healthy", report.summary


def test_an_optimizer_missing_the_head_is_found() -> None:
    model, x, y = _trained()
    opt = torch.optim.Adam(model[0].parameters(), lr=1e-2)  # the head is in no group
    report = deadpan.diagnose(model, x, y, loss_fn=nn.functional.cross_entropy, optimizer=opt)
    found = [f for f in report.findings if f.code == "DP504"]
    assert found and "2." in str(found[0].evidence), found
