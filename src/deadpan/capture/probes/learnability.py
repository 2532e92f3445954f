"""Is there signal in the data? Simple scikit-learn models on the captured inputs, cross-validated,
against the same models on permuted labels. Tells "the data holds no signal" from "the network failed".

Uses its own seeded generators (NumPy ``default_rng``, sklearn ``random_state``): never the global RNG.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from deadpan.evidence import LearnabilityProbe, Task

#: Rows and (after projection) features used: keeps the probe to about a second on 2 cores.
MAX_ROWS = 800
MAX_FEATURES = 128
FOLDS = 3


def _features(x: np.ndarray) -> np.ndarray:
    x = x.reshape(len(x), -1).astype(np.float64)
    x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    if x.shape[1] > MAX_FEATURES:
        rng = np.random.default_rng(0)
        proj = rng.normal(0, 1 / np.sqrt(MAX_FEATURES), size=(x.shape[1], MAX_FEATURES))
        x = x @ proj
    std = x.std(0)
    std[std == 0] = 1.0
    return (x - x.mean(0)) / std


def _random_features(seed: int = 0, width: int = 256) -> Any:
    """A fixed random ReLU layer (an "extreme learning machine"): a fast non-linear feature map."""
    from sklearn.preprocessing import FunctionTransformer

    state: dict[str, np.ndarray] = {}

    def transform(x: np.ndarray) -> np.ndarray:
        if "w" not in state or state["w"].shape[0] != x.shape[1]:
            rng = np.random.default_rng(seed)
            state["w"] = rng.normal(0, 1 / np.sqrt(max(x.shape[1], 1)), size=(x.shape[1], width)) * 2.0
            state["b"] = rng.normal(0, 1, size=width)
        return np.maximum(x @ state["w"] + state["b"], 0.0)

    return FunctionTransformer(transform)


def learnability(x: np.ndarray, y: np.ndarray, task: Task) -> LearnabilityProbe | None:
    from sklearn.linear_model import Ridge, RidgeClassifier
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.pipeline import make_pipeline

    if task.kind == "multilabel" or len(x) < 3 * FOLDS * 2:
        return None
    # Batches kept over several epochs repeat samples; duplicates across CV folds would let k-NN "predict"
    # even random labels, so only distinct (input, target) rows are used.
    flat = np.concatenate([x.reshape(len(x), -1), y.reshape(len(y), -1)], axis=1)
    _, first = np.unique(flat, axis=0, return_index=True)
    keep = np.sort(first)[:MAX_ROWS]
    x, y = x[keep], y[keep]
    if len(x) < 3 * FOLDS * 2:
        return None
    feats = _features(x)
    rng = np.random.default_rng(0)
    models: dict[str, Any]
    if task.kind == "regression":
        target = y.reshape(len(y), -1)[:, 0].astype(np.float64)
        if not np.isfinite(target).all() or target.std() == 0:
            return None
        cv: KFold | StratifiedKFold = KFold(FOLDS, shuffle=True, random_state=0)
        models = {
            "linear": Ridge(alpha=1.0),
            "knn": KNeighborsRegressor(n_neighbors=7),
            "random_features": make_pipeline(_random_features(), Ridge(alpha=10.0)),
        }
        metric, chance = "r2", 0.0
    else:
        target = (y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(-1)).astype(np.int64)
        if len(target) != len(feats):
            return None
        classes, counts = np.unique(target, return_counts=True)
        if len(classes) < 2 or counts.min() < FOLDS:
            return None
        cv = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
        models = {
            "linear": RidgeClassifier(alpha=1.0, class_weight="balanced"),
            "knn": KNeighborsClassifier(n_neighbors=7),
            "random_features": make_pipeline(
                _random_features(), RidgeClassifier(alpha=10.0, class_weight="balanced")
            ),
        }
        metric, chance = "balanced_accuracy", 1.0 / len(classes)
    permuted = rng.permutation(target)
    scores: dict[str, float] = {}
    perm: list[float] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, model in models.items():
            scores[name] = float(np.mean(cross_val_score(model, feats, target, cv=cv, scoring=metric)))
            # The same models on permuted labels: the best of them is what picking the best of three
            # "learns" from no signal at all, the bar the best real score must clear.
            perm.append(float(np.mean(cross_val_score(model, feats, permuted, cv=cv, scoring=metric))))
    return LearnabilityProbe(
        metric=metric,
        linear_score=scores["linear"],
        nonlinear_score=max(scores["knn"], scores["random_features"]),
        permuted_score=max(perm),
        chance_score=chance,
        n_samples=len(target),
    )
