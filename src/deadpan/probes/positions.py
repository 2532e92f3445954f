"""Learnability for classes per position (a language model's next tokens, a seq2seq model's output tokens):
can the targets be predicted from the inputs at all?

The row-wise learnability probe (:mod:`deadpan.probes.learnability`) predicts one target per row; a sequence
has a target per position, scored by cross-entropy skill (``1 - CE / CE(the targets' frequencies)``, 0 for the
unigram answer). Two count models read the integer token inputs, each with add-one smoothing, fitted on two
thirds of the rows and scored on the rest:

- **aligned**: the target at position ``t`` given the input token at ``t`` (an input of the targets' length:
  the bigram model of a next-token LM, whose input at ``t`` is the token before the target);
- **bag**: the target given the tokens anywhere in the input row: the average of the per-token conditionals,
  or the row's own tokens mixed with the targets' frequencies (a reversal or copy task's output tokens come
  from its source); the best of them counts, as it does on the permuted rows.

The same models on rows whose targets belong to other inputs (one permutation) are the no-signal baseline. A
pipeline that shuffled inputs and targets apart leaves both models at the permuted score; any real pairing
lifts at least one above it. Hand-written rather than scikit-learn: a count table over a vocabulary of a few
hundred tokens is exact, instant and needs no one-hot matrix of positions x vocabulary.
"""

from __future__ import annotations

import numpy as np

from deadpan.evidence import LearnabilityProbe, Task

#: Token vocabularies up to this size are counted (a count table of vocabulary x vocabulary).
MAX_VOCABULARY = 1024
#: Rows (sequences) used at most, and the fewest worth scoring.
MAX_ROWS = 800
MIN_ROWS = 30
#: Share of the rows the count models are fitted on; the rest score them.
FIT_SHARE = 2 / 3
#: Weights of the copy model (the input row's own tokens) against the targets' frequencies.
COPY_WEIGHTS = (0.25, 0.5, 0.75)


def position_learnability(x: np.ndarray | None, y: np.ndarray, task: Task) -> LearnabilityProbe | None:
    """The count models' held-out cross-entropy skill on ``x`` (token ids ``[N, S]``) and ``y`` (class ids
    ``[N, T]``), and on permuted rows; None when the inputs are not token ids, the vocabulary is too large,
    or there are too few rows."""
    if x is None or task.positions <= 1 or x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        return None
    if x.dtype.kind not in "iu" or y.dtype.kind not in "iu" or len(x) < MIN_ROWS:
        return None
    x, y = x[:MAX_ROWS].astype(np.int64), y[:MAX_ROWS].astype(np.int64)
    valid = y >= 0 if task.ignore_index is None else (y >= 0) & (y != task.ignore_index)
    vocab = int(max(x.max(initial=0), y[valid].max(initial=0))) + 1
    if vocab > MAX_VOCABULARY or x.min() < 0 or not valid.any():
        return None
    cut = int(len(x) * FIT_SHARE)
    real = _skills(x, y, valid, vocab, cut)
    order = np.random.default_rng(0).permutation(len(y))
    permuted = _skills(x, y[order], valid[order], vocab, cut)
    return LearnabilityProbe(
        metric="cross_entropy_skill",
        linear_score=real[0],
        nonlinear_score=real[1],
        permuted_score=max(permuted),
        chance_score=0.0,
        n_samples=len(x) - cut,
        token_counts=True,
    )


def _skills(x: np.ndarray, y: np.ndarray, valid: np.ndarray, vocab: int, cut: int) -> tuple[float, float]:
    """(aligned, best bag model) held-out skill; the aligned model is -inf when input and target lengths
    differ."""
    fit, held = valid[:cut], valid[cut:]
    target = np.where(held, y[cut:], 0)
    unigram = np.bincount(y[:cut][fit], minlength=vocab) + 1.0
    unigram /= unigram.sum()
    base = _cross_entropy(unigram[target], held)
    copied = _copied(x[cut:], vocab)
    bags = [_bag(x, y, valid, vocab, cut)] + [w * copied + (1 - w) * unigram for w in COPY_WEIGHTS]
    bag = min(_cross_entropy(np.take_along_axis(p, target, axis=1), held) for p in bags)
    if x.shape[1] != y.shape[1]:
        return -np.inf, 1.0 - bag / base
    aligned = _cross_entropy(_aligned(x, y, fit, vocab, cut)[x[cut:], target], held)
    return 1.0 - aligned / base, 1.0 - bag / base


def _copied(x: np.ndarray, vocab: int) -> np.ndarray:
    """Each row's own tokens as a distribution (their counts over the row's length): a target copied from
    the input, in any order."""
    counts = np.zeros((len(x), vocab))
    np.add.at(counts, (np.repeat(np.arange(len(x)), x.shape[1]), x.reshape(-1)), 1.0)
    return counts / x.shape[1]


def _aligned(x: np.ndarray, y: np.ndarray, fit: np.ndarray, vocab: int, cut: int) -> np.ndarray:
    """P(target at t | input token at t), counted on the fitted rows: a vocabulary x vocabulary table."""
    counts = np.ones((vocab, vocab))
    np.add.at(counts, (x[:cut][fit], y[:cut][fit]), 1.0)
    return counts / counts.sum(1, keepdims=True)


def _bag(x: np.ndarray, y: np.ndarray, valid: np.ndarray, vocab: int, cut: int) -> np.ndarray:
    """P(target | the input row's tokens) for each held-out row: the mean over the row's distinct tokens of
    P(target | the token is in the row), counted on the fitted rows."""
    present = np.zeros((len(x), vocab))
    present[np.arange(len(x))[:, None], x] = 1.0
    targets = np.zeros((len(y), vocab))
    rows = np.nonzero(valid)[0]
    np.add.at(targets, (rows, y[valid]), 1.0)
    table = present[:cut].T @ targets[:cut] + 1.0
    table /= table.sum(1, keepdims=True)
    return present[cut:] @ table / np.maximum(present[cut:].sum(1, keepdims=True), 1.0)


def _cross_entropy(picked: np.ndarray, valid: np.ndarray) -> float:
    """Mean negative log of the probabilities given to the valid targets."""
    return float(-np.log(np.maximum(picked[valid], 1e-12)).mean())
