"""The output probe's per-class recall: what DP101 reads to see a model favouring the majority class."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from deadpan.evidence import Task
from deadpan.probes.outputs import output_probe


def test_class_recall_per_class_id() -> None:
    # Class 0: 3 of 3 right, class 1: 1 of 2, class 2 absent from the targets, class 3: 0 of 1.
    target = torch.tensor([0, 0, 0, 1, 1, 3])
    pred = torch.tensor([0, 0, 0, 1, 0, 0])
    logits = torch.nn.functional.one_hot(pred, 4).float() * 5
    probe = output_probe(Task("multiclass", 4, 4), logits.numpy(), target.numpy())
    assert probe.class_recall[:2] == (1.0, 0.5) and probe.class_recall[3] == 0.0
    assert math.isnan(probe.class_recall[2])


def test_no_class_recall_for_regression() -> None:
    out = torch.randn(8, 1).numpy()
    assert output_probe(Task("regression", None, 1), out, torch.randn(8, 1).numpy()).class_recall == ()


def test_rounded_score_reads_one_regression_output_as_class_ids() -> None:
    from deadpan.measures import rounded_score

    true = np.array([0, 1, 2, 3, 4] * 20, dtype=np.float64)
    assert rounded_score((true + 0.3)[:, None], true) == 1.0
    # Everything predicted as the mean id 2: one class in five right.
    assert rounded_score(np.full((100, 1), 2.2), true) == pytest.approx(0.2)
    # Outputs past the id range clip to its ends.
    assert rounded_score(np.full((100, 1), 9.0), true) == pytest.approx(0.2)
    # Not class ids (continuous, two values) or several outputs: no score.
    assert rounded_score(true[:, None], true + 0.5) is None
    assert rounded_score(np.zeros((100, 1)), true % 2) is None
    assert rounded_score(np.zeros((100, 2)), true) is None
