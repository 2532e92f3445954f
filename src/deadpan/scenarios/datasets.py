"""Data for the scenarios: scikit-learn's bundled data sets (no download) and small generated ones."""

from __future__ import annotations

import numpy as np
import torch


def digits(n: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """8x8 digits, standardised per pixel (train statistics), split 80/20: x, y, x_test, y_test."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = d.data.astype(np.float32), d.target.astype(np.int64)
    return _split(x, y, n, standardize=True)


def digits_raw() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data.astype(np.float32), d.target.astype(np.int64)


def diabetes() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Diabetes regression, inputs and target standardised, split 80/20."""
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    y = (d.target - d.target.mean()) / d.target.std()
    return _split(d.data.astype(np.float32), y.astype(np.float32), None, standardize=True)


def breast_cancer() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    return _split(d.data.astype(np.float32), d.target.astype(np.float32), None, standardize=True)


def _split(
    x: np.ndarray, y: np.ndarray, n: int | None, standardize: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(x))[: n or len(x)]
    x, y = x[idx], y[idx]
    cut = int(0.8 * len(x))
    xtr, xte = x[:cut], x[cut:]
    if standardize:
        mu, sd = xtr.mean(0), xtr.std(0)
        sd[sd == 0] = 1.0
        xtr, xte = (xtr - mu) / sd, (xte - mu) / sd
    return (
        torch.from_numpy(xtr.astype(np.float32)),
        torch.from_numpy(y[:cut]),
        torch.from_numpy(xte.astype(np.float32)),
        torch.from_numpy(y[cut:]),
    )


def circles(
    n: int = 800, noise: float = 0.08
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two concentric circles: no linear boundary separates them."""
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=n, noise=noise, factor=0.5, random_state=0)
    return _split(x.astype(np.float32), y.astype(np.int64), None, standardize=True)


Split = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def imbalanced(n: int = 2000, minority: float = 0.05, separation: float = 1.2, features: int = 10) -> Split:
    """Two Gaussian classes, ``minority`` share of class 1, weakly separated along a few features."""
    rng = np.random.default_rng(0)
    y = (rng.random(n) < minority).astype(np.int64)
    x = rng.normal(size=(n, features)).astype(np.float32)
    x[:, :3] += separation * y[:, None]
    return _split(x, y, None, standardize=False)


def noise(n: int = 600, features: int = 20, classes: int = 2) -> Split:
    """Random inputs with random labels: nothing links them."""
    rng = np.random.default_rng(0)
    x = rng.random((n, features)).astype(np.float32)
    y = rng.integers(0, classes, n).astype(np.int64)
    return _split(x, y, None, standardize=False)
