"""A loop with no optimizer (issue 18): the weights updated by hand, ``p -= lr * p.grad``. The model is found
from the first ``backward``, a step is each training forward after one, and gradients zeroed in place count
as cleared."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from deadpan.script.autolog import run_callable


def _manual_sgd(zero_grads: bool) -> None:
    torch.manual_seed(0)
    x = torch.randn(384, 6)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))
    for _ in range(8):
        for i in range(0, 384, 32):
            loss = F.cross_entropy(model(x[i : i + 32]), y[i : i + 32])
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
                    if zero_grads:
                        p.grad.zero_()


def test_a_loop_updating_weights_by_hand_is_diagnosed() -> None:
    report = run_callable(lambda: _manual_sgd(zero_grads=True)).report
    assert report.verdict == "healthy", str(report)
    assert report.metrics["steps"] == 8 * 12 - 1  # the last update has no training forward after it


def test_a_hand_written_update_that_never_zeroes_gradients_is_a_loop_bug() -> None:
    report = run_callable(lambda: _manual_sgd(zero_grads=False)).report
    assert report.verdict in ("collapsed", "degraded"), str(report)
    assert report.top_cause == "train.loop", str(report)
