"""How good a zoo model is on the held-out split, on one scale for every task: 1 is perfect, the
input-independent baseline scores about 1/classes (balanced accuracy) or 0 (R²).

Balanced accuracy rather than accuracy, so predicting the majority class of an imbalanced task scores as
badly as it is; R² is clipped to [-1, 1] so a diverged regression does not swamp the statistics.
"""

from __future__ import annotations

import numpy as np


def balanced_accuracy(pred: np.ndarray, y: np.ndarray) -> float:
    recalls = [float(np.mean(pred[y == c] == c)) for c in np.unique(y)]
    return float(np.mean(recalls))


def r2(pred: np.ndarray, y: np.ndarray) -> float:
    if not np.all(np.isfinite(pred)):
        return -1.0
    ss_res = float(np.sum((y - pred) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return float(np.clip(1.0 - ss_res / ss_tot, -1.0, 1.0))


def score(kind: str, out: np.ndarray, y: np.ndarray, probabilities: bool) -> float:
    """Score raw model outputs ``out`` [n, units] against targets; ``probabilities`` says whether the
    outputs are already probabilities (a sigmoid/softmax head) rather than logits."""
    if kind == "regression":  # non-finite predictions score -1, the worst
        return r2(out.astype(np.float64).reshape(len(out), -1)[:, 0], y.reshape(-1))
    out = np.nan_to_num(out.astype(np.float64), nan=0.0, posinf=1e30, neginf=-1e30)
    if kind == "multilabel":
        threshold = 0.5 if probabilities else 0.0
        pred = (out > threshold).astype(np.float64)
        return float(np.mean([balanced_accuracy(pred[:, j], y[:, j]) for j in range(y.shape[1])]))
    y = y.reshape(-1)
    if out.ndim == 1 or out.shape[1] == 1:
        o = out.reshape(-1)
        if kind == "binary":
            pred = (o > (0.5 if probabilities else 0.0)).astype(np.float64)
        else:  # one unit for class ids (a regression loss on labels): round to the nearest class
            pred = np.clip(np.rint(o), 0, int(y.max()))
    else:
        pred = out.argmax(1).astype(np.float64)
    return balanced_accuracy(pred, y.astype(np.float64))
