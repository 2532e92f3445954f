"""One streaming pass over the data (``deadpan.capture.stream``): exact counts over every row, a uniform
sample, memory flat in the number of rows; and what ``diagnose`` gains from it on ordered data."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, IterableDataset, TensorDataset

import deadpan
from deadpan.capture.stream import scan


def _batches(rows: int, width: int = 6, batch: int = 1000, seed: int = 0) -> Iterator[tuple]:
    g = torch.Generator().manual_seed(seed)
    for start in range(0, rows, batch):
        n = min(batch, rows - start)
        x = torch.randn(n, width, generator=g) * torch.arange(1, width + 1) + 3
        yield (x,), {}, torch.randint(0, 4, (n,), generator=g)


def test_the_counts_are_exact_over_every_row() -> None:
    batches = list(_batches(9_500))
    batches[3][0][0][17, 2] = float("nan")
    batches[7][2][5] = 9
    stats = scan(batches)
    x = torch.cat([b[0][0] for b in batches]).double().numpy()
    y = torch.cat([b[2] for b in batches]).numpy()
    finite = np.isfinite(x).all(axis=1)
    assert stats.rows == 9_500 and stats.batches == 10
    assert stats.nonfinite_input_rows == 1 and stats.first_nonfinite_input_row == 3 * 1000 + 17
    np.testing.assert_allclose(stats.feature_mean, x[finite].mean(axis=0), rtol=1e-6)  # float32 data
    np.testing.assert_allclose(stats.feature_std, x[finite].std(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(stats.feature_min, x[finite].min(axis=0))
    np.testing.assert_array_equal(stats.class_counts, np.bincount(y))
    assert stats.distinct_classes == 5
    assert stats.target_mean == pytest.approx(y.mean()) and stats.target_std == pytest.approx(y.std())


def test_float_targets_nan_first_rows_and_several_columns() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3_000, 4, generator=g)
    y = torch.randn(3_000, 3, generator=g) * 2 + 1
    x[:1000] = float("nan")  # the whole first batch: no finite row to start from
    y[1500, 1] = float("inf")
    stats = scan([((x[i : i + 1000],), {}, y[i : i + 1000]) for i in range(0, 3_000, 1000)])
    assert (stats.nonfinite_input_rows, stats.first_nonfinite_input_row) == (1000, 0)
    assert (stats.nonfinite_target_rows, stats.first_nonfinite_target_row) == (1, 1500)
    assert stats.class_counts is None
    finite = torch.isfinite(y).all(dim=1)
    assert stats.target_mean == pytest.approx(float(y[finite].double().mean()), rel=1e-6)
    assert stats.target_std == pytest.approx(float(y[finite].double().std(unbiased=False)), rel=1e-6)
    np.testing.assert_allclose(stats.feature_mean, x[1000:].double().mean(0).numpy(), atol=1e-6)


def test_the_sample_is_uniform_over_the_stream_not_its_first_rows() -> None:
    ids = torch.arange(100_000)
    batches = [((ids[i : i + 500, None].float(),), {}, ids[i : i + 500]) for i in range(0, 100_000, 500)]
    stats = scan(batches)
    kept = torch.cat([b[2] for b in stats.sample]).numpy()
    assert len(kept) == 2048 and len(np.unique(kept)) == 2048
    assert abs(kept.mean() - 50_000) < 5 * 100_000 / np.sqrt(12 * 2048)  # five standard errors
    assert 0.45 < (kept < 50_000).mean() < 0.55
    assert (kept >= 90_000).mean() > 0.07  # the last tenth is there (a first-rows sample holds none of it)


def test_max_rows_stops_the_pass() -> None:
    stats = scan(_batches(10_000), max_rows=3_000)
    assert stats.rows == 3_000 and stats.batches == 3


class _Generated(IterableDataset):  # type: ignore[type-arg]
    """Rows made on the fly: the data takes no memory, so what grows is deadpan's."""

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        yield from ((b[0][0], b[2]) for b in _batches(self.rows, width=16, batch=2000))


def _peak(rows: int) -> tuple[int, int]:
    tracemalloc.start()
    try:
        stats = scan(((x,), {}, y) for x, y in DataLoader(_Generated(rows), batch_size=None))
        return tracemalloc.get_traced_memory()[1], stats.nbytes()
    finally:
        tracemalloc.stop()


def test_memory_is_flat_in_the_number_of_rows() -> None:
    small_peak, small_held = _peak(40_000)
    large_peak, large_held = _peak(400_000)
    assert large_held == small_held
    assert large_peak < 1.2 * small_peak, (small_peak, large_peak)


def _trained_on_sorted_data() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    y = torch.arange(4).repeat_interleave(2_500)  # sorted by label: the first 2048 rows are all class 0
    x = torch.randn(len(y), 8) + 2 * y[:, None].float()
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(300):
        i = torch.randint(0, len(y), (64,))
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[i]), y[i]).backward()
        opt.step()
    return model, x, y


def test_diagnose_reads_every_row_of_a_sorted_loader() -> None:
    """A first-rows sample of this loader holds class 0 only: the old reading called the labels broken."""
    model, x, y = _trained_on_sorted_data()
    report = deadpan.diagnose(model, DataLoader(TensorDataset(x, y), batch_size=500))
    assert report.verdict == "healthy", str(report)
    data = report.metrics["data"]
    assert data["rows"] == 10_000 and data["distinct_classes"] == 4 and data["rows_per_second"] > 0


def test_one_nan_row_in_ten_thousand_is_found_and_placed() -> None:
    model, x, y = _trained_on_sorted_data()
    x = x.clone()
    x[7_777, 0] = float("nan")
    report = deadpan.diagnose(model, x, y)
    found = [f for f in report.findings if f.code == "DP112"]
    assert found and "1 of 10000 rows, the first at row 7777" in found[0].message
