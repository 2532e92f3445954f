"""Bounded memory: deadpan's evidence stops growing once its caps are reached, however long the run
(``benchmarks/memory.py`` shows it over 100k steps)."""

from __future__ import annotations

import warnings

import torch
from torch import nn

import deadpan
from deadpan.capture.samples import SAMPLE_BYTES, SAMPLE_ROWS, SERIES_POINTS
from deadpan.capture.step_stats import STEP_TIMES_KEPT


def test_evidence_stops_growing_once_its_caps_are_reached() -> None:
    torch.manual_seed(0)
    x = torch.randn(4096, 8)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    sizes = {}
    with warnings.catch_warnings(), deadpan.watch(model, opt, probes=False) as w:
        warnings.simplefilter("ignore")
        rec = w.recorder
        assert rec is not None
        for step in range(1, 2 * STEP_TIMES_KEPT + 1):
            i = (step * 16) % (len(x) - 16)
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[i : i + 16]), y[i : i + 16]).backward()
            opt.step()
            if step in (STEP_TIMES_KEPT + 100, 2 * STEP_TIMES_KEPT):
                rec.flush()
                sizes[step] = rec.evidence_bytes()
    first, last = sizes.values()
    assert len(rec.loss_series.steps) <= SERIES_POINTS and len(rec.step_seconds) == STEP_TIMES_KEPT
    # The kept batches fill up to their caps (rows and bytes), spread over the run; the rest is flat.
    assert rec.train_store.rows <= SAMPLE_ROWS and rec.heldout_store.rows <= SAMPLE_ROWS // 2
    assert last["batches"] <= SAMPLE_BYTES * 1.5
    for part in ("initial_weights", "loss_record"):
        assert last[part] == first[part], (part, first[part], last[part])
    # Four series of at most SERIES_POINTS (step, value) pairs and the step times: ~50 bytes an entry at most.
    series_bound = 50 * (4 * 2 * (SERIES_POINTS + 1) + STEP_TIMES_KEPT + 15)
    assert first["series"] <= series_bound and last["series"] <= series_bound, (first, last, series_bound)
    # Sampled steps' statistics (layer gradient norms, fingerprints) grow with the log of the step count.
    grown = sum(last[k] - first[k] for k in ("layer_grad", "fingerprints"))
    assert 0 <= grown < 2048, (first, last)
