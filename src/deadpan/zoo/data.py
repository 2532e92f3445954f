"""Base-task data (scikit-learn's bundled sets and generated ones; nothing is downloaded) and the data-
pipeline steps that mutation operators insert.

Every loader returns a fixed 80/20 split (seed 0) so a healthy task and its mutants are scored on the same
held-out rows; the training seed varies the initialisation, batch order and random data steps only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from deadpan.zoo.config import DataOp


@dataclass(frozen=True)
class Split:
    x: np.ndarray
    y: np.ndarray
    xt: np.ndarray
    yt: np.ndarray
    #: Per-feature mean and std the inputs were standardised with (for the "unstandardise" step).
    mu: np.ndarray | None = None
    sd: np.ndarray | None = None


def _split(x: np.ndarray, y: np.ndarray, standardize: bool = True, test: float = 0.2) -> Split:
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(x))
    x, y = x[idx], y[idx]
    cut = int((1 - test) * len(x))
    xtr, xte = x[:cut].astype(np.float32), x[cut:].astype(np.float32)
    mu = sd = None
    if standardize:
        mu, sd = xtr.mean(0), xtr.std(0)
        sd[sd == 0] = 1.0
        xtr, xte = (xtr - mu) / sd, (xte - mu) / sd
    return Split(xtr.astype(np.float32), y[:cut], xte.astype(np.float32), y[cut:], mu, sd)


@cache
def digits() -> Split:
    from sklearn.datasets import load_digits

    d = load_digits()
    return _split(d.data, d.target.astype(np.int64))


@cache
def wine() -> Split:
    from sklearn.datasets import load_wine

    d = load_wine()
    return _split(d.data, d.target.astype(np.int64), test=0.3)


@cache
def fraud() -> Split:
    """Binary with a realistic imbalance (about 9:1), like fraud or defect detection."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=3000,
        n_features=20,
        n_informative=6,
        n_redundant=2,
        weights=[0.9],
        class_sep=1.2,
        flip_y=0.01,
        random_state=0,
    )
    return _split(x, y.astype(np.float32))


@cache
def friedman() -> Split:
    """Friedman #1 regression: a non-linear target of 5 of 10 features, standardised."""
    from sklearn.datasets import make_friedman1

    x, y = make_friedman1(n_samples=2000, n_features=10, noise=0.5, random_state=0)
    y = (y - y.mean()) / y.std()
    return _split(x, y.astype(np.float32))


@cache
def multilabel() -> Split:
    from sklearn.datasets import make_multilabel_classification

    x, y = make_multilabel_classification(
        n_samples=2000, n_features=20, n_classes=5, n_labels=2, random_state=0
    )
    return _split(x, y.astype(np.float32))


#: Sequence task: which of the marker tokens 1, 2, 3 occurs most often in a sequence of 20 tokens.
SEQ_VOCAB, SEQ_LEN = 12, 20


@cache
def sequences() -> Split:
    rng = np.random.default_rng(0)
    n = 3000
    y = rng.integers(0, 3, n)
    tokens = rng.integers(4, SEQ_VOCAB, size=(n, SEQ_LEN))
    for i in range(n):  # 3 + k copies of the winning marker, fewer of the others
        counts = rng.integers(0, 3, 3)
        counts[y[i]] = 3 + rng.integers(0, 3)
        pos = rng.permutation(SEQ_LEN)
        j = 0
        for m in range(3):
            for _ in range(counts[m]):
                tokens[i, pos[j]] = m + 1
                j += 1
    return _split(tokens.astype(np.float32), y.astype(np.int64), standardize=False)


LOADERS: dict[str, Callable[[], Split]] = {
    "digits": digits,
    "wine": wine,
    "fraud": fraud,
    "friedman": friedman,
    "multilabel": multilabel,
    "sequences": sequences,
}


# --- data-pipeline steps ------------------------------------------------------------------------------------


def _majority(y: np.ndarray) -> float:
    if y.ndim > 1:
        return 0.0
    values, counts = np.unique(y, return_counts=True)
    return float(values[np.argmax(counts)])


def apply(split: Split, ops: tuple[DataOp, ...], seed: int) -> Split:
    """Run the data steps of a mutant on copies of the base split."""
    rng = np.random.default_rng(1000 + seed)
    x, y, xt, yt = split.x.copy(), split.y.copy(), split.xt.copy(), split.yt.copy()
    for op, p in ops:
        n = len(x)
        if op == "shuffle_labels":  # a fraction of the labels moved to other rows
            rows = rng.choice(n, int(p * n), replace=False)
            y[rows] = y[rng.permutation(rows)]
        elif op == "shuffle_inputs":  # inputs shuffled, labels not: the pairs are broken
            x = x[rng.permutation(n)]
        elif op == "single_label":
            y[:] = _majority(y)
        elif op == "shift_labels":  # 0/1 targets stored as 1/2
            y, yt = y + p, yt + p
        elif op == "subsample":
            keep = rng.permutation(n)[: max(int(p * n), 4)]
            x, y = x[keep], y[keep]
        elif op == "duplicate":  # p distinct rows repeated to the original size
            keep = rng.permutation(n)[: int(p)]
            reps = -(-n // len(keep))
            x, y = np.tile(x[keep], (reps, 1))[:n], np.tile(y[keep], (reps,) + (1,) * (y.ndim - 1))[:n]
        elif op == "unbalance":  # keep a fraction p of every class but the majority
            major = _majority(y)
            rows = np.flatnonzero((y == major) | (rng.random(n) < p))
            x, y = x[rows], y[rows]
        elif op == "input_noise":  # a noisy sensor: at training and at test time
            x = x + rng.normal(0, p, x.shape).astype(np.float32)
            xt = xt + rng.normal(0, p, xt.shape).astype(np.float32)
        elif op == "scale":  # raw units: large and far from zero, at train and test
            x, xt = x * p + p, xt * p + p
        elif op == "unstandardise" and split.mu is not None and split.sd is not None:
            x, xt = x * split.sd + split.mu, xt * split.sd + split.mu
        elif op == "int_div":  # 8-bit values divided by 255 with integer division: (almost) all zero
            lo, hi = split.x.min(), split.x.max()
            q, qt = ((x - lo) / (hi - lo) * 255).clip(0, 255), ((xt - lo) / (hi - lo) * 255).clip(0, 255)
            x = np.floor_divide(q.astype(np.uint8), 255).astype(np.float32)
            xt = np.floor_divide(qt.astype(np.uint8), 255).astype(np.float32)
        elif op == "nan_inputs":
            mask = rng.random(x.shape) < p
            x = np.where(mask, np.nan, x).astype(np.float32)
        elif op == "test_scale":  # held-out data scaled differently from the training data
            xt = xt * p
        else:
            raise ValueError(f"unknown data step {op!r}")
    return Split(x.astype(np.float32), y, xt.astype(np.float32), yt, split.mu, split.sd)
