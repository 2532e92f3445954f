"""Loops that index their batches from tensors by hand (no DataLoader): the recorder finds the tensor the
batches come from, so DP503 can tell the same batch every step from full-batch training."""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from deadpan.capture.discovery import batch_source_rows
from deadpan.script.autolog import run_callable

N, BATCH = 512, 32


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, 8, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 0.5).long()
    return x, y


def _train(batch_of: Callable[[torch.Tensor, torch.Tensor, int, torch.Tensor], torch.Tensor]) -> None:
    """A small classifier trained for 6 epochs; ``batch_of(x, perm, i, everything)`` picks each batch."""
    torch.manual_seed(0)
    x, y = _data()
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(6):
        perm = torch.randperm(N)
        for i in range(0, N, BATCH):
            idx = batch_of(x, perm, i, torch.arange(N))
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()


def _codes(train: Callable[[], None]) -> set[str]:
    return {f.code for f in run_callable(train).report.findings}


def test_same_rows_indexed_every_step_is_found() -> None:
    # The loop bug: `torch.arange(batch_size)` where `perm[i:i + batch_size]` was meant.
    assert "DP503" in _codes(lambda: _train(lambda x, perm, i, every: torch.arange(BATCH)))


def test_shuffled_minibatches_are_left_alone() -> None:
    assert "DP503" not in _codes(lambda: _train(lambda x, perm, i, every: perm[i : i + BATCH]))


def test_same_slice_every_step_is_found() -> None:
    def train() -> None:
        torch.manual_seed(0)
        x, y = _data()
        model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(100):
            opt.zero_grad()
            F.cross_entropy(model(x[:BATCH]), y[:BATCH]).backward()  # a view of x: x[:BATCH]._base is x
            opt.step()

    assert "DP503" in _codes(train)


def test_full_batch_training_is_left_alone() -> None:
    def same_tensor() -> None:
        torch.manual_seed(0)
        x, y = _data()
        model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(100):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

    def train_split_rebuilt_every_step() -> None:
        # Full-batch on 80% of a bigger tensor, indexed anew at every step: a split, not a minibatch.
        torch.manual_seed(0)
        x, y = _data()
        train = torch.arange(int(0.8 * N))
        model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(100):
            opt.zero_grad()
            F.cross_entropy(model(x[train]), y[train]).backward()
            opt.step()

    assert "DP503" not in _codes(same_tensor)
    assert "DP503" not in _codes(train_split_rebuilt_every_step)


def test_batch_source_rows_reads_the_loop_variables() -> None:
    x, _ = _data()
    other = torch.randn(2 * N, 8)  # same row shape, more rows, but not where the batch came from
    batch = x[torch.tensor([5, 17, 300])]
    assert other.shape[0] > x.shape[0]
    assert batch_source_rows(batch, sys._getframe()) == N
    assert batch_source_rows(x[10:20], sys._getframe()) == N  # a view: its base
    assert batch_source_rows(torch.randn(3, 8), sys._getframe()) is None  # rows from nowhere in scope
    assert batch_source_rows(x[:, 0][:5], sys._getframe()) is None  # scalar rows say nothing
