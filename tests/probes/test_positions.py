"""Learnability per position: next tokens that follow from the inputs show signal; shuffled apart, none."""

from __future__ import annotations

import numpy as np

from deadpan.evidence import Task
from deadpan.probes.positions import position_learnability

V, T, N = 12, 20, 300


def _markov(seed: int = 0) -> np.ndarray:
    """Sequences from a chain where each token has two likely successors."""
    rng = np.random.default_rng(seed)
    nxt = rng.integers(0, V, size=(V, 2))
    seq = np.zeros((N, T + 1), dtype=np.int64)
    seq[:, 0] = rng.integers(0, V, N)
    for t in range(T):
        pick = rng.integers(0, 2, N)
        seq[:, t + 1] = np.where(rng.random(N) < 0.9, nxt[seq[:, t], pick], rng.integers(0, V, N))
    return seq


def _task() -> Task:
    return Task("multiclass", V, V, positions=T)


def test_a_language_model_corpus_has_signal_and_shuffled_rows_have_none() -> None:
    seq = _markov()
    x, y = seq[:, :-1], seq[:, 1:]
    real = position_learnability(x, y, _task())
    assert real is not None and real.metric == "cross_entropy_skill"
    assert real.linear_score > 0.3 and real.signal_gap() > real.noise_gap()
    shuffled = position_learnability(x, y[np.random.default_rng(1).permutation(N)], _task())
    assert shuffled is not None
    assert max(shuffled.linear_score, shuffled.nonlinear_score) < 0.05
    assert shuffled.signal_gap() < shuffled.noise_gap()


def test_a_reversal_task_shows_signal_through_the_bag_of_source_tokens() -> None:
    rng = np.random.default_rng(0)
    src = rng.integers(3, 3 + 16, size=(N, 6))
    real = position_learnability(src, src[:, ::-1].copy(), Task("multiclass", 19, 19, positions=6))
    assert real is not None and real.nonlinear_score > 0.2 and real.signal_gap() > real.noise_gap()


def test_padding_counts_nowhere_and_other_inputs_are_not_read() -> None:
    seq = _markov()
    x, y = seq[:, :-1], seq[:, 1:].copy()
    y[:, 15:] = -100
    padded = position_learnability(x, y, Task("multiclass", V, V, positions=T, ignore_index=-100))
    assert padded is not None and padded.linear_score > 0.3
    assert position_learnability(x.astype(np.float32), y, _task()) is None
    assert position_learnability(x * 1000, y, _task()) is None  # a vocabulary too large to count
    assert position_learnability(x, y, Task("multiclass", V, V)) is None  # one target per row
