"""repair-labels: targets the loss cannot take, re-encoded as DP104's evidence shows (PyTorch)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deadpan.findings import Finding
from deadpan.fixes.base import NotApplicable
from deadpan.fixes.catalog.repair_labels import Affine, _mapping
from deadpan.fixes.options import VerifyOptions
from deadpan.script.autolog import run_callable

from .kit import blobs


def _dp104(**evidence: object) -> Finding:
    return Finding(
        code="DP104",
        name="targets-out-of-range",
        category="data.labels",
        severity="error",
        message="",
        fix="",
        evidence=dict(evidence),
    )


def test_the_mapping_follows_the_evidence() -> None:
    one_based, _ = _mapping(_dp104(loss="cross_entropy", target_min=1, target_max=3, n_output_units=3))
    assert torch.equal(one_based(torch.tensor([1, 2, 3])), torch.tensor([0, 1, 2]))
    plus_minus, what = _mapping(_dp104(loss="binary_cross_entropy_with_logits", target_min=-1, target_max=1))
    assert torch.equal(plus_minus(torch.tensor([-1.0, 1.0])), torch.tensor([0.0, 1.0])) and "-1/1" in what
    masks, _ = _mapping(_dp104(loss="binary_cross_entropy", target_min=0, target_max=255))
    mapped = masks(np.array([0.0, 255.0], dtype="float32"))
    assert mapped.dtype == np.float32 and np.array_equal(mapped, np.array([0.0, 1.0]))
    with pytest.raises(NotApplicable, match="unclear"):
        _mapping(_dp104(loss="cross_entropy", target_min=0, target_max=7, n_output_units=3))
    assert Affine(1.0, 1.0)(np.array([1, 2], dtype="int64")).dtype == np.int64


def test_plus_minus_one_labels_are_repaired_and_verified() -> None:
    def train() -> None:
        torch.manual_seed(0)
        x, y = blobs(600)
        target = (y == 0).float() * 2 - 1  # -1/+1 labels into BCEWithLogitsLoss
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        loss_fn = nn.BCEWithLogitsLoss()
        for _ in range(5):
            for i in range(0, 600, 32):
                opt.zero_grad()
                loss_fn(model(x[i : i + 32]), target[i : i + 32, None]).backward()
                opt.step()

    report = run_callable(train, verify=VerifyOptions(workers=1, progress=False)).report
    assert report.top_cause == "data.labels", str(report)
    v = report.causes[0].verified
    assert v is not None and v["fix"] == "repair-labels" and v["improved"], v
    assert "(y + 1) / 2" in v["advice"]
