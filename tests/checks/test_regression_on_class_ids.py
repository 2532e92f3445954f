"""A classification problem trained as regression (MSE on class ids) against a target that really is ordinal:
DP305 must tell them apart by what simple classifiers reach on the same inputs, not by the targets alone."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from deadpan.script.autolog import run_callable


def _fit_mse(x: torch.Tensor, y: torch.Tensor, epochs: int) -> None:
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(x, y[:, None]), batch_size=32, shuffle=True)
    model = nn.Sequential(nn.Linear(x.shape[1], 64), nn.ReLU(), nn.Linear(64, 1))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.mse_loss(model(xb), yb).backward()
            opt.step()


def test_digit_ids_regressed_with_mse_are_a_loss_mismatch() -> None:
    # The regression fits the ids' trend tolerably (R^2 ~0.7) but its rounded outputs name the right digit
    # for about a third of the inputs, where a simple classifier names it for over 90%.
    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.float32)
    report = run_callable(lambda: _fit_mse(x, y, epochs=10)).report
    assert report.verdict == "degraded", str(report)
    assert report.top_cause == "loss.mismatch", str(report)
    found = next(f for f in report.findings if f.code == "DP305")
    assert found.evidence["classifier_score"] - found.evidence["rounded_score"] >= 0.3
    assert "nn.CrossEntropyLoss()" in found.fix and "nn.Linear(hidden, 10)" in found.fix


def test_ordinal_target_regressed_with_mse_is_healthy() -> None:
    # Five ordered grades of a linear score: regression suits them, and rounding it beats a classifier.
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1024, 8, generator=g)
    s = x @ torch.linspace(-1, 1, 8) + 0.3 * torch.randn(1024, generator=g)
    y = torch.bucketize(s, torch.quantile(s, torch.tensor([0.2, 0.4, 0.6, 0.8]))).float()
    report = run_callable(lambda: _fit_mse(x, y, epochs=15)).report
    assert report.verdict == "healthy", str(report)
    assert all(f.code != "DP305" for f in report.findings), str(report)
