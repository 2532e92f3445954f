"""Is there signal in the data? Simple models on the captured inputs, cross-validated, against the same
models on permuted labels. Tells "the data holds no signal" from "the network failed".

Three models: ridge regression / a ridge classifier (linear), ridge on a fixed random ReLU layer (an
"extreme learning machine", non-linear) and k-nearest neighbours (non-linear, local). The ridge fits are
closed-form NumPy solves sharing one fold split, which keeps the probe a fraction of a second (scikit-learn's
cross-validation machinery cost more than the fits themselves). Uses its own seeded generators (NumPy
``default_rng``, scikit-learn ``random_state``): never the global RNG.

Two input kinds get more than the raw feature vector:

- **Token ids** (sequence models: ``Embedding`` over integer ids). A token id is a name, not a quantity:
  linear models and distances over raw ids find nothing even where a bag-of-words model predicts well. When
  the inputs look like ids (:func:`token_ids`), every row is also represented as bag-of-tokens counts and the
  three models run on both representations; the raw one stays, so integer-valued tabular data read as ids by
  mistake (pixel intensities 0..255, small counts) keeps the score it had.
- **Multi-label targets** (one sigmoid per label). One set of models per label; each model's score is the mean
  over labels of its per-label balanced accuracy, the network's multi-label score in
  :func:`deadpan.probes.task.score`, so the two compare directly.

A regression target that looks like class ids (integers 0..C-1) is also scored as classes
(``class_id_score``), so a classification problem trained with a regression loss shows what a classifier
would reach.

Classes with fewer samples than CV folds are left out of a classification probe (the rest are scored), so a
tiny data set still gets a figure.

Whatever the models, the label-permuted baseline runs every one of them on the same permuted targets (for
multi-label targets whole label rows are permuted together), and the best of them is the bar: picking the best
of more models on no signal scores higher, and the baseline sees that same choice.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from deadpan.evidence import LearnabilityProbe, Task
from deadpan.measures import balanced_accuracy, class_ids, r2

#: Rows and (after projection) features used: keeps the probe to a few tenths of a second on 2 cores.
MAX_ROWS = 800
MAX_FEATURES = 128
FOLDS = 3
#: Width of the random ReLU layer, and the ridge penalties (linear, random features).
RANDOM_FEATURES = 256
ALPHA_LINEAR, ALPHA_RANDOM = 1.0, 10.0
NEIGHBOURS = 7
#: Labels of a multi-label target scored (the first usable ones): each costs one run of the models, and the
#: mean over 16 labels already varies little with more.
MAX_LABELS = 16
#: Float inputs count as token ids only when each distinct value occurs this many times on average: ids
#: from a vocabulary repeat across rows (a word-piece vocabulary of 30k over 800 sequences of 100 tokens
#: still averages above 2), integer-valued measurements (amounts, counts over a wide range) mostly do not.
MIN_TOKEN_REPEATS = 2.0

MODELS = ("linear", "random_features", "knn")


def token_ids(x: np.ndarray) -> bool:
    """Do the inputs look like token ids for an ``Embedding`` (the rule, from what the probe sees)?

    - shape (n, seq_len) with seq_len >= 2: one id per position; images and feature maps have more axes,
    - every value a non-negative integer (an embedding table has no row -1 or 2.5),
    - at least two distinct ids, and either an integer dtype (PyTorch's ``Embedding`` takes only integer
      indices, and ``nn.Linear`` refuses them, so integer inputs reach a lookup or are cast), or floats whose
      distinct values repeat ``MIN_TOKEN_REPEATS`` times on average (Keras' ``Embedding`` takes float ids, and
      deadpan's Keras capture casts all inputs to float64).
    """
    if x.ndim != 2 or x.shape[1] < 2 or x.size == 0 or x.dtype.kind not in "iuf":
        return False
    if x.dtype.kind == "f" and (not np.isfinite(x).all() or not np.array_equal(x, np.round(x))):
        return False
    if x.min() < 0:
        return False
    distinct = len(np.unique(x))
    if distinct < 2:
        return False
    return x.dtype.kind in "iu" or x.size / distinct >= MIN_TOKEN_REPEATS


def token_counts(x: np.ndarray) -> np.ndarray:
    """Bag-of-tokens: (n, vocab) counts of each id per row. Past ``MAX_FEATURES`` ids the most frequent
    ``MAX_FEATURES - 1`` keep a column each and the rest share one."""
    ids = x.astype(np.int64)
    vocab, inverse, freq = np.unique(ids, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(ids.shape)
    width = len(vocab)
    if width > MAX_FEATURES:
        rank = np.empty(width, dtype=np.int64)
        rank[np.argsort(-freq, kind="stable")] = np.arange(width)
        inverse = np.minimum(rank[inverse], MAX_FEATURES - 1)
        width = MAX_FEATURES
    counts = np.zeros((len(ids), width))
    np.add.at(counts, (np.repeat(np.arange(len(ids)), ids.shape[1]), inverse.reshape(-1)), 1.0)
    return counts


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

    out: dict[str, list[float]] = {name: [] for name in MODELS}
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


View = tuple[np.ndarray, np.ndarray]  # (standardized features, their random ReLU features)


def _views(x: np.ndarray) -> tuple[list[View], bool]:
    """The representations the models run on: the raw features, plus bag-of-tokens counts for token ids."""
    feats = _features(x)
    views = [(feats, _random_relu(feats))]
    tokens = token_ids(x)
    if tokens:
        counts = _features(token_counts(x))
        views.append((counts, _random_relu(counts)))
    return views, tokens


def _all_scores(
    views: list[View], targets: list[np.ndarray], regression: bool
) -> dict[tuple[int, str], float]:
    """Each (view, model)'s CV score, averaged over ``targets`` (the labels of a multi-label target; one
    target otherwise)."""
    total: dict[tuple[int, str], float] = {}
    for target in targets:
        folds = _folds(len(target), None if regression else target)
        for v, (feats, rf) in enumerate(views):
            for name, value in _scores(feats, rf, target, regression, folds).items():
                total[(v, name)] = total.get((v, name), 0.0) + value / len(targets)
    return total


def _usable(target: np.ndarray) -> bool:
    """A classification target the stratified CV can score: two or more classes, each in every fold."""
    _, counts = np.unique(target, return_counts=True)
    return len(counts) >= 2 and counts.min() >= FOLDS


def _class_id_score(views: list[View], target: np.ndarray) -> float | None:
    """A regression target that looks like class ids, scored as classes: the best model's CV balanced
    accuracy (classes with fewer samples than folds left out), or None. Compared with the network's rounded
    outputs it tells a classification problem solved as regression from an ordinal target."""
    if class_ids(target) is None:
        return None
    labels = target.astype(np.int64)
    classes, counts = np.unique(labels, return_counts=True)
    kept = np.isin(labels, classes[counts >= FOLDS])
    if len(np.unique(labels[kept])) < 2 or kept.sum() < 3 * FOLDS * 2:
        return None
    sub = [(f[kept], rf[kept]) for f, rf in views]
    return max(_all_scores(sub, [labels[kept]], regression=False).values())


@dataclass(frozen=True)
class _Targets:
    """What the models are scored on: each target column as a row of ``rows`` (one for regression and
    single-label classification, one per label for multi-label targets), the metric, its chance level, and
    the labels scored."""

    rows: np.ndarray
    metric: str
    chance: float
    labels: int = 1


def learnability(x: np.ndarray, y: np.ndarray, task: Task) -> LearnabilityProbe | None:
    """Cross-validated scores of the simple models on inputs ``x`` and targets ``y``, against the same models
    on permuted targets; None when there are too few distinct rows or nothing to score, and for classes per
    position (a language model's next tokens): the models here predict one target per row, and the network's
    per-position score (cross-entropy skill) is not one they can be compared with."""
    if len(x) < 3 * FOLDS * 2 or task.positions > 1:
        return None
    # Batches kept over several epochs repeat samples; duplicates across CV folds would let k-NN "predict"
    # even random labels, so only distinct (input, target) rows are used.
    flat = np.concatenate([x.reshape(len(x), -1), y.reshape(len(y), -1)], axis=1)
    _, first = np.unique(flat, axis=0, return_index=True)
    keep = np.sort(first)[:MAX_ROWS]
    x, y = x[keep], y[keep]
    if len(x) < 3 * FOLDS * 2:
        return None
    regression = task.kind == "regression"
    scored = _scored_targets(x, y, task)
    if scored is None:
        return None
    x, targets = scored
    views, tokens = _views(x)
    # One permutation of the rows for every label: label co-occurrence stays, the pairing with inputs goes.
    permuted = targets.rows[:, np.random.default_rng(0).permutation(targets.rows.shape[1])]
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    # One BLAS/OpenMP thread: the matrices are a few hundred wide, where threads gain nothing, and on a
    # machine already busy (parallel training, other jobs) oversubscribed BLAS threads made each solve ~50x
    # slower (0.2 s instead of 4 ms for a 256-wide solve under a load of 20 on 2 cores).
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        real = _all_scores(views, list(targets.rows), regression)
        # The same models on permuted labels: the best of them is what picking the best of the models
        # "learns" from no signal at all, the bar the best real score must clear.
        perm = _all_scores(views, list(permuted), regression)
        as_classes = _class_id_score(views, targets.rows[0]) if regression else None
    return LearnabilityProbe(
        metric=targets.metric,
        linear_score=max(s for (_, name), s in real.items() if name == "linear"),
        nonlinear_score=max(s for (_, name), s in real.items() if name != "linear"),
        permuted_score=max(perm.values()),
        chance_score=targets.chance,
        n_samples=targets.rows.shape[1],
        labels=targets.labels,
        token_counts=tokens,
        class_id_score=as_classes,
    )


def _scored_targets(x: np.ndarray, y: np.ndarray, task: Task) -> tuple[np.ndarray, _Targets] | None:
    """The inputs and the targets the models are scored on, by the task's kind; None when there is nothing
    to score (non-finite or constant regression targets, fewer than two scorable classes or labels)."""
    if task.kind == "regression":
        target = y.reshape(len(y), -1)[:, 0].astype(np.float64)
        if not np.isfinite(target).all() or target.std() == 0:
            return None
        return x, _Targets(target[None, :], "r2", 0.0)
    if task.kind == "multilabel":
        y2 = y.reshape(len(y), -1)
        if not np.isfinite(y2).all():
            return None
        # 0/1 labels (a probability target above one half counts as on), as the network's score reads them.
        columns = [c for c in (y2 > 0.5).astype(np.int64).T if _usable(c)][:MAX_LABELS]
        if not columns:
            return None
        # Chance for every label's balanced accuracy is 1/2, and so for their mean.
        return x, _Targets(np.stack(columns), "balanced_accuracy", 0.5, labels=len(columns))
    target = (y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(-1)).astype(np.int64)
    if len(target) != len(x):
        return None
    classes, counts = np.unique(target, return_counts=True)
    if counts.min() < FOLDS:
        # A class with fewer samples than folds cannot be in every fold. On a tiny data set (a few dozen
        # samples over ten classes) that is common, and the probe is most needed there: score the classes
        # that can be scored rather than none.
        kept = np.isin(target, classes[counts >= FOLDS])
        x, target = x[kept], target[kept]
        classes, counts = np.unique(target, return_counts=True)
    if len(classes) < 2 or len(target) < 3 * FOLDS * 2:
        return None
    return x, _Targets(target[None, :], "balanced_accuracy", 1.0 / len(classes))
