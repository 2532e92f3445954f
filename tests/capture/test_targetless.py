"""Embedding models (issue 18): a triplet loss compares the model's outputs with each other, so the model is
judged by how far apart its embeddings are on the loss's own scale."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from deadpan.script.autolog import run_callable


class Ignores(nn.Module):
    """An embedding net whose output does not depend on its input: every example at one point."""

    def __init__(self) -> None:
        super().__init__()
        self.point = nn.Parameter(torch.zeros(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.point.expand(len(x), 4) + 0 * x[:, :4]


def _triplets(model: nn.Module, weight_decay: float = 0.0) -> None:
    torch.manual_seed(0)
    centres = torch.randn(4, 8) * 3
    y = torch.arange(512) % 4
    x = centres[y] + torch.randn(512, 8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=weight_decay)
    for _ in range(4):
        for i in range(0, 512, 64):
            anchor = torch.arange(i, i + 64)
            positive = (anchor + 4) % 512  # the same class (classes repeat every 4 rows)
            negative = (anchor + 1) % 512  # the next class
            loss = F.triplet_margin_loss(model(x[anchor]), model(x[positive]), model(x[negative]))
            opt.zero_grad()
            loss.backward()
            opt.step()


def test_an_embedding_model_is_judged_by_its_embeddings_spread() -> None:
    torch.manual_seed(0)
    report = run_callable(
        lambda: _triplets(nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4)))
    ).report
    assert report.verdict == "healthy", str(report)
    assert report.metrics["task"] == "embedding"


def test_embeddings_all_at_one_point_are_collapsed() -> None:
    report = run_callable(lambda: _triplets(Ignores())).report
    assert report.verdict == "collapsed", str(report)
    assert "one point" in report.summary


def test_the_weight_and_layer_checks_read_an_embedding_model() -> None:
    net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))
    report = run_callable(lambda: _triplets(net, weight_decay=1.0)).report
    skipped = {s.code for s in report.skipped}
    assert not skipped & {"DP530", "DP601", "DP602", "DP220"}, skipped  # weight decay, init, dead units


def _pairs(same_label_only: bool) -> None:
    """A siamese net on cosine_embedding_loss: pairs of one class labelled +1, of two classes -1 (or, with
    the bug, every pair +1)."""
    torch.manual_seed(0)
    centres = torch.randn(4, 8) * 3
    y = torch.arange(512) % 4
    x = centres[y] + torch.randn(512, 8)
    net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(4):
        for i in range(0, 512, 64):
            a = torch.arange(i, i + 64)
            b = (a + torch.randint(1, 8, (64,))) % 512
            label = torch.where(y[a] == y[b], 1.0, -1.0)
            if same_label_only:
                label = torch.ones(64)
            loss = F.cosine_embedding_loss(net(x[a]), net(x[b]), label)
            opt.zero_grad()
            loss.backward()
            opt.step()


def test_a_pair_loss_whose_labels_are_all_one_value_names_the_labels() -> None:
    healthy = run_callable(lambda: _pairs(False)).report
    assert healthy.verdict == "healthy", str(healthy)
    report = run_callable(lambda: _pairs(True)).report
    assert report.verdict == "collapsed", str(report)
    assert report.causes[0].category == "data.labels" and "DP103" in report.causes[0].findings
