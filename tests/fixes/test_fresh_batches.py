"""A loop that trains on one batch over and over: the trials draw fresh batches from the user's DataLoader
dataset, read-only, and give it up once the report is done."""

from __future__ import annotations

import gc
import weakref

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from deadpan.capture.discovery import LoaderSource
from deadpan.fixes.base import NotApplicable
from deadpan.fixes.batches import drawn_batches
from deadpan.fixes.options import VerifyOptions
from deadpan.scenarios.registry import get
from deadpan.script.autolog import run_callable


def test_same_batch_every_step_is_verified_with_batches_from_the_dataset() -> None:
    report = run_callable(get("same-batch-every-step").train, verify=VerifyOptions(progress=False)).report
    assert report.top_cause == "train.loop"
    v = report.causes[0].verified
    assert v is not None and v["fix"] == "correct-loop" and v["improved"], v
    assert v["before"]["distinct_predictions"] == 1 and v["after"]["score"] > 0.8
    control = report.metrics["verification"]["control"]
    assert "DataLoader" in control["data"] and control["heldout_rows"] > 100


def _source(n: int = 100, d: int = 3) -> tuple[LoaderSource, TensorDataset]:
    data = TensorDataset(torch.randn(n, d), torch.arange(n) % 2)
    loader = DataLoader(data, batch_size=16)
    return LoaderSource(loader.dataset, loader.collate_fn, 16), data


def test_drawn_batches_are_fresh_rows_and_leave_the_dataset_and_rng_alone() -> None:
    source, data = _source()
    before = [t.clone() for t in data.tensors]
    like = ((data.tensors[0][:16],), {}, data.tensors[1][:16])
    state = torch.get_rng_state()
    drawn = drawn_batches(source, like, rows=64, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    assert [len(b[2]) for b in drawn] == [16, 16, 16, 16]
    rows = torch.cat([b[0][0] for b in drawn])
    assert len({tuple(r.tolist()) for r in rows}) == 64  # distinct rows, not the one batch again
    assert all(torch.equal(a, b) for a, b in zip(before, data.tensors, strict=True))
    again = drawn_batches(source, like, rows=64, seed=3)
    assert all(torch.equal(a[0][0], b[0][0]) for a, b in zip(drawn, again, strict=True))


def test_a_loop_that_reshapes_the_loaders_batches_is_not_imitated() -> None:
    source, data = _source()
    like = ((data.tensors[0][:16, :2],), {}, data.tensors[1][:16])  # the loop dropped a column
    with pytest.raises(NotApplicable, match="changes the DataLoader's batches"):
        drawn_batches(source, like, rows=64)
    triple = TensorDataset(torch.randn(10, 3), torch.zeros(10), torch.zeros(10))
    loader = DataLoader(triple, batch_size=4)
    with pytest.raises(NotApplicable, match="pairs"):
        drawn_batches(LoaderSource(triple, loader.collate_fn, 4), like, rows=8)


def test_deadpan_keeps_no_reference_to_the_dataset_after_the_run() -> None:
    refs: list[weakref.ref[TensorDataset]] = []

    def train() -> None:
        data = TensorDataset(torch.randn(64, 3), torch.arange(64) % 2)
        refs.append(weakref.ref(data))
        model = torch.nn.Linear(3, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for x, y in DataLoader(data, batch_size=16):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()

    result = run_callable(train)
    gc.collect()
    assert result.inputs is not None and result.inputs.recorder is not None
    assert result.inputs.recorder.loader_source is None
    assert refs[0]() is None
