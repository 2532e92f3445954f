"""A training for the report tests: a layer named like a script, its weights zeroed (a collapsed run)."""

from __future__ import annotations

import torch
from torch import nn

EVIL = "<script>alert(1)</script>"


def train_with_script_named_layer() -> None:
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential()
    model.add_module(EVIL, nn.Linear(8, 16))
    model.add_module("act", nn.ReLU())
    model.add_module("out", nn.Linear(16, 2))
    nn.init.zeros_(model[0].weight)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(40):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
