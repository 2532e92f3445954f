"""Several loss terms in one step: the batches are paired by one of them, the one on the labels."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from deadpan.capture.probe_inputs import ProbeInputs
from deadpan.script.autolog import run_callable


def _distil() -> None:
    torch.manual_seed(0)
    x = torch.randn(256, 6)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    soft = F.one_hot(y, 3).float() * 0.8 + 0.2 / 3  # a teacher's softened answer
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(10):
        for i in range(0, 256, 32):
            logits = model(x[i : i + 32])
            kd = F.kl_div(F.log_softmax(logits, 1), soft[i : i + 32], reduction="batchmean")
            loss = 0.5 * kd + 0.5 * F.cross_entropy(logits, y[i : i + 32])
            opt.zero_grad()
            loss.backward()
            opt.step()


def test_a_distillation_step_is_paired_by_its_labels() -> None:
    result = run_callable(_distil)
    assert result.report.verdict == "healthy", str(result.report)
    assert isinstance(result.inputs, ProbeInputs) and result.inputs.loss is not None
    assert result.inputs.loss.function == "cross_entropy"
    assert result.report.metrics["task"] == "multiclass"
