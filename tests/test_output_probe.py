"""The output probe's per-class recall: what DP101 reads to see a model favouring the majority class."""

from __future__ import annotations

import math

import torch

from deadpan.capture.probes.outputs import output_probe
from deadpan.evidence import Task


def test_class_recall_per_class_id() -> None:
    # Class 0: 3 of 3 right, class 1: 1 of 2, class 2 absent from the targets, class 3: 0 of 1.
    target = torch.tensor([0, 0, 0, 1, 1, 3])
    pred = torch.tensor([0, 0, 0, 1, 0, 0])
    logits = torch.nn.functional.one_hot(pred, 4).float() * 5
    probe = output_probe(Task("multiclass", 4, 4), logits, target)
    assert probe.class_recall[:2] == (1.0, 0.5) and probe.class_recall[3] == 0.0
    assert math.isnan(probe.class_recall[2])


def test_no_class_recall_for_regression() -> None:
    out = torch.randn(8, 1)
    assert output_probe(Task("regression", None, 1), out, torch.randn(8, 1)).class_recall == ()
