"""Losses written by hand (no torch.nn.functional loss call): the target comes from the DataLoader batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from deadpan.script.autolog import run_callable


def _regression_data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(512, 8, generator=g)
    y = x @ torch.linspace(-1, 1, 8) + 0.1 * torch.randn(512, generator=g)
    return x, y[:, None]


def _train_regression(head: nn.Module, shift: float) -> None:
    torch.manual_seed(0)
    x, y = _regression_data()
    loader = DataLoader(TensorDataset(x, y - shift), batch_size=32, shuffle=True)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1), head)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(15):
        for xb, yb in loader:
            opt.zero_grad()
            loss = ((model(xb) - yb) ** 2).mean()  # MSE by hand
            loss.backward()
            opt.step()


def test_hand_written_mse_healthy() -> None:
    report = run_callable(lambda: _train_regression(nn.Identity(), 0.0)).report
    assert report.verdict == "healthy", str(report)
    assert report.metrics["task"] == "regression"


def test_hand_written_mse_relu_head_collapses() -> None:
    report = run_callable(lambda: _train_regression(nn.ReLU(), 5.0)).report  # all targets negative
    assert report.verdict == "collapsed", str(report)
    assert report.top_cause == "model.output", str(report)


def test_hand_written_cross_entropy_with_dict_batches() -> None:
    class Dicts(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
        def __init__(self) -> None:
            g = torch.Generator().manual_seed(0)
            self.x = torch.randn(384, 6, generator=g)
            self.y = (self.x[:, 0] > 0).long() + (self.x[:, 1] > 0).long()

        def __len__(self) -> int:
            return len(self.x)

        def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
            return {"features": self.x[i], "labels": self.y[i]}

    def train() -> None:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))
        for m in model.modules():
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.weight)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(5):
            for batch in DataLoader(Dicts(), batch_size=32, shuffle=True):
                opt.zero_grad()
                logp = F.log_softmax(model(batch["features"]), dim=1)
                loss = -logp[torch.arange(len(logp)), batch["labels"]].mean()  # cross-entropy by hand
                loss.backward()
                opt.step()

    report = run_callable(train).report
    assert report.verdict == "collapsed", str(report)
    assert report.top_cause == "init.symmetry", str(report)
