"""The learnability probe on the input kinds that need more than raw features: multi-label targets (one set of
models per label, mean per-label balanced accuracy) and token ids (bag-of-tokens counts)."""

from __future__ import annotations

import numpy as np
from factory import blobs

from deadpan.checks.data.no_learnable_signal import NO_SIGNAL_GAP
from deadpan.evidence import LearnabilityProbe, Task
from deadpan.probes.learnability import learnability, token_counts, token_ids

MULTILABEL = Task("multilabel", 2, 4)
THREE_CLASSES = Task("multiclass", 3, 3)


def no_signal(p: LearnabilityProbe | None) -> bool:
    """DP102's bar for no signal (the larger of the fixed gap and the scores' sampling noise)."""
    assert p is not None
    return p.signal_gap() < max(NO_SIGNAL_GAP, p.noise_gap())


def multilabel_data(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four labels, each a different linear function of six Gaussian features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    w = rng.normal(size=(6, 4))
    return x, (x @ w > 0).astype(np.float32)


def marker_sequences(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Which of the tokens 1, 2, 3 occurs most often in 20 tokens from a vocabulary of 12 (marker-gru's data):
    the class is in the counts, and no single position or id's size says anything."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    tokens = rng.integers(4, 12, size=(n, 20))
    for i in range(n):
        counts = rng.integers(0, 3, 3)
        counts[y[i]] = 3 + rng.integers(0, 3)
        pos = rng.permutation(20)
        j = 0
        for m in range(3):
            for _ in range(counts[m]):
                tokens[i, pos[j]] = m + 1
                j += 1
    return tokens, y


# --- multi-label targets ------------------------------------------------------------------------------------


def test_multilabel_signal_is_found() -> None:
    x, y = multilabel_data()
    p = learnability(x, y, MULTILABEL)
    assert p is not None
    assert p.metric == "balanced_accuracy" and p.chance_score == 0.5 and p.labels == 4
    assert p.linear_score > 0.85  # each label is linear in the inputs
    assert not no_signal(p)


def test_multilabel_inputs_shuffled_apart_have_no_signal() -> None:
    x, y = multilabel_data()
    p = learnability(x[np.random.default_rng(1).permutation(len(x))], y, MULTILABEL)
    assert p is not None and p.labels == 4
    assert no_signal(p)


def test_multilabel_score_is_the_mean_of_per_label_scores() -> None:
    # Two copies of one label score exactly what the binary probe scores on that label: per-label balanced
    # accuracy averaged over labels, the network's multi-label score; the permuted baseline matches too.
    x, y = multilabel_data()
    one = learnability(x, y[:, 0], Task("binary", 2, 1))
    two = learnability(x, np.stack([y[:, 0], y[:, 0]], axis=1), Task("multilabel", 2, 2))
    assert one is not None and two is not None
    assert two.linear_score == one.linear_score
    assert two.nonlinear_score == one.nonlinear_score
    assert two.permuted_score == one.permuted_score


def test_multilabel_constant_labels_are_skipped() -> None:
    x, y = multilabel_data()
    y[:, 3] = 1.0  # one label always on: nothing to score there
    p = learnability(x, y, MULTILABEL)
    assert p is not None and p.labels == 3
    y[:, :3] = 0.0
    assert learnability(x, y, MULTILABEL) is None  # no label left to score


# --- token ids ----------------------------------------------------------------------------------------------


def test_token_id_rule() -> None:
    tokens, _ = marker_sequences(100)
    assert token_ids(tokens)  # integer dtype
    assert token_ids(tokens.astype(np.float64))  # float ids (Keras; deadpan's Keras capture casts to float64)
    assert not token_ids(tokens + 0.5)  # not integers
    assert not token_ids(tokens - 5)  # negative: no embedding row
    assert not token_ids(tokens[:, :1])  # one column: a feature, not a sequence
    assert not token_ids(tokens.reshape(100, 4, 5).astype(np.float64))  # images / feature maps
    assert not token_ids(np.zeros((100, 20), dtype=np.int64))  # one value only
    # Distinct integer-valued measurements (each value about once) are not a vocabulary when stored as floats.
    assert not token_ids(np.arange(2000, dtype=np.float64).reshape(100, 20))
    assert not token_ids(np.random.default_rng(0).normal(size=(100, 20)))


def test_token_counts() -> None:
    counts = token_counts(np.array([[1, 1, 5], [5, 7, 7]]))
    assert counts.tolist() == [[2.0, 1.0, 0.0], [0.0, 1.0, 2.0]]  # columns: ids 1, 5, 7


def test_token_counts_keep_the_most_frequent_ids() -> None:
    rng = np.random.default_rng(0)
    ids = rng.zipf(1.5, size=(200, 30)) % 5000
    counts = token_counts(ids)
    assert counts.shape == (200, 128)
    assert counts.sum() == ids.size  # the rarer ids share the last column


def test_token_ids_signal_is_found() -> None:
    # Raw ids give linear models and k-NN nothing here (marker-gru's false no-signal alarm); their counts do.
    tokens, y = marker_sequences()
    for x in (tokens, tokens.astype(np.float64)):
        p = learnability(x, y, THREE_CLASSES)
        assert p is not None and p.token_counts
        assert max(p.linear_score, p.nonlinear_score) > 0.8
        assert not no_signal(p)


def test_token_ids_shuffled_apart_have_no_signal() -> None:
    tokens, y = marker_sequences()
    p = learnability(tokens[np.random.default_rng(1).permutation(len(tokens))], y, THREE_CLASSES)
    assert p is not None and p.token_counts
    assert no_signal(p)


def test_integer_tabular_data_read_as_ids_keeps_its_signal() -> None:
    # Blobs rounded to non-negative integers pass for ids; the raw features still run beside the counts, so
    # the signal they carry is still found.
    x, y = blobs(300)
    ints = np.round(x - x.min()).astype(np.int64)
    p = learnability(ints, y, THREE_CLASSES)
    assert p is not None and p.token_counts
    assert p.linear_score > 0.9
    assert not no_signal(p)


def test_plain_features_are_not_token_ids() -> None:
    x, y = blobs(300)
    p = learnability(x, y, THREE_CLASSES)
    assert p is not None and not p.token_counts and p.labels == 1
    assert not no_signal(p)


# --- tiny data sets -----------------------------------------------------------------------------------------


def test_tiny_data_set_scores_the_classes_it_can() -> None:
    # 40 samples over 10 classes, two of them with fewer samples than CV folds: those two are left out and the
    # other eight still show their signal.
    x, y = blobs(n=40, classes=10, features=6)
    y = y.copy()
    y[[8, 18, 28, 9, 19, 29]] = 7  # classes 8 and 9 keep one sample each (38 and 39)
    p = learnability(x, y, Task("multiclass", 10, 10))
    assert p is not None
    assert p.n_samples == 38 and p.chance_score == 1 / 8
    assert not no_signal(p)
    assert p.linear_score > 0.6


def test_tiny_data_set_without_two_scorable_classes_gives_none() -> None:
    x, y = blobs(n=40, classes=10, features=6)
    y = np.where(np.arange(40) < 30, 0, np.arange(40) % 10)  # one class of 30, the rest one sample each
    assert learnability(x, y, Task("multiclass", 10, 10)) is None


def test_class_id_targets_are_also_scored_as_classes() -> None:
    # Regression targets that are class ids (0..4 from clusters unordered along the inputs): the probe also
    # reports what a classifier reaches, for DP305 to compare with the network's rounded outputs.
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, size=(5, 6))
    ids = rng.integers(0, 5, 400)
    x = centres[ids] + rng.normal(0, 1, size=(400, 6))
    probe = learnability(x, ids.astype(np.float64), Task("regression", None, 1))
    assert probe is not None and probe.metric == "r2"
    assert probe.class_id_score is not None and probe.class_id_score > 0.9
    # Continuous targets have no class reading.
    cont = learnability(x, x[:, 0] * 2.0 + 0.5, Task("regression", None, 1))
    assert cont is not None and cont.class_id_score is None
