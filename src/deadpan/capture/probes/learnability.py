"""Is there signal in the data? Simple models on the captured inputs, cross-validated, against the same
models on permuted labels. Tells "the data holds no signal" from "the network failed".

Three models: ridge regression / a ridge classifier (linear), ridge on a fixed random ReLU layer (an
"extreme learning machine", non-linear) and k-nearest neighbours (non-linear, local). The ridge fits are
closed-form NumPy solves sharing one fold split, which keeps the probe a fraction of a second (scikit-learn's
cross-validation machinery cost more than the fits themselves). Uses its own seeded generators (NumPy
``default_rng``, scikit-learn ``random_state``): never the global RNG.
"""

from __future__ import annotations

import warnings

import numpy as np

from deadpan.capture.probes.task import balanced_accuracy, r2
from deadpan.evidence import LearnabilityProbe, Task

#: Rows and (after projection) features used: keeps the probe to a few tenths of a second on 2 cores.
MAX_ROWS = 800
MAX_FEATURES = 128
FOLDS = 3
#: Width of the random ReLU layer, and the ridge penalties (linear, random features).
RANDOM_FEATURES = 256
ALPHA_LINEAR, ALPHA_RANDOM = 1.0, 10.0
NEIGHBOURS = 7


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


def _random_relu(x: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(0)
    w = rng.normal(0, 2.0 / np.sqrt(max(x.shape[1], 1)), size=(x.shape[1], RANDOM_FEATURES))
    b = rng.normal(0, 1, size=RANDOM_FEATURES)
    return np.maximum(x @ w + b, 0.0)


def _ridge_predict(
    xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, alpha: float, weights: np.ndarray | None
) -> np.ndarray:
    """Weighted ridge regression with an intercept, solved in closed form; ``ytr`` is (n, k)."""
    w = np.ones(len(xtr)) if weights is None else weights
    mx = np.average(xtr, axis=0, weights=w)
    my = np.average(ytr, axis=0, weights=w)
    xc, yc = xtr - mx, ytr - my
    a = (xc * w[:, None]).T @ xc + alpha * np.eye(xtr.shape[1])
    coef = np.linalg.solve(a, (xc * w[:, None]).T @ yc)
    return (xte - mx) @ coef + my


def _folds(n: int, labels: np.ndarray | None) -> list[np.ndarray]:
    """Test-index arrays of a shuffled (stratified when ``labels`` is given) K-fold split."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if labels is not None:
        return [
            te for _, te in StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(np.zeros(n), labels)
        ]
    return [te for _, te in KFold(FOLDS, shuffle=True, random_state=0).split(np.zeros(n))]


def _scores(
    feats: np.ndarray, rf: np.ndarray, target: np.ndarray, regression: bool, folds: list[np.ndarray]
) -> dict[str, float]:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    out: dict[str, list[float]] = {"linear": [], "random_features": [], "knn": []}
    classes = np.unique(target) if not regression else np.zeros(0)
    for te in folds:
        tr = np.setdiff1d(np.arange(len(target)), te)
        ytr, yte = target[tr], target[te]
        if regression:
            y2 = ytr.reshape(-1, 1)
            weights = None
        else:
            y2 = np.where(ytr[:, None] == classes[None, :], 1.0, -1.0)  # RidgeClassifier's encoding
            counts = {c: np.sum(ytr == c) for c in classes}
            weights = np.array(
                [len(ytr) / (len(classes) * counts[c]) for c in ytr]
            )  # class_weight="balanced"
        for name, f, alpha in (("linear", feats, ALPHA_LINEAR), ("random_features", rf, ALPHA_RANDOM)):
            pred = _ridge_predict(f[tr], y2, f[te], alpha, weights)
            if regression:
                out[name].append(r2(yte, pred[:, 0]))
            else:
                out[name].append(balanced_accuracy(yte, classes[pred.argmax(1)]))
        knn = KNeighborsRegressor(NEIGHBOURS) if regression else KNeighborsClassifier(NEIGHBOURS)
        knn.fit(feats[tr], ytr)
        pk = knn.predict(feats[te])
        out["knn"].append(r2(yte, pk) if regression else balanced_accuracy(yte, pk))
    return {k: float(np.mean(v)) for k, v in out.items()}


def learnability(x: np.ndarray, y: np.ndarray, task: Task) -> LearnabilityProbe | None:
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
    rf = _random_relu(feats)
    regression = task.kind == "regression"
    if regression:
        target = y.reshape(len(y), -1)[:, 0].astype(np.float64)
        if not np.isfinite(target).all() or target.std() == 0:
            return None
        metric, chance = "r2", 0.0
    else:
        target = (y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(-1)).astype(np.int64)
        if len(target) != len(feats):
            return None
        classes, counts = np.unique(target, return_counts=True)
        if len(classes) < 2 or counts.min() < FOLDS:
            return None
        metric, chance = "balanced_accuracy", 1.0 / len(classes)
    permuted = np.random.default_rng(0).permutation(target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        real = _scores(feats, rf, target, regression, _folds(len(target), None if regression else target))
        # The same models on permuted labels: the best of them is what picking the best of three
        # "learns" from no signal at all, the bar the best real score must clear.
        perm = _scores(feats, rf, permuted, regression, _folds(len(target), None if regression else permuted))
    return LearnabilityProbe(
        metric=metric,
        linear_score=real["linear"],
        nonlinear_score=max(real["knn"], real["random_features"]),
        permuted_score=max(perm.values()),
        chance_score=chance,
        n_samples=len(target),
    )
