"""Bounded samples of what ``fit`` trains on: NumPy arrays, ``tf.data.Dataset``, ``keras.utils.PyDataset``
and Python generators.

Arrays are sampled at evenly spaced rows (no random draw). Datasets and PyDatasets are read after training
ends, so the user's pipeline (and its shuffle state) is exactly as it would be without deadpan during the
fit. A generator can only be read once: ``deadpan run`` wraps it so that the batches ``fit`` pulls pass
through unchanged while a bounded sample is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from deadpan.capture.samples import SAMPLE_BYTES, SAMPLE_ROWS, sampled

#: Batches read from a dataset or PyDataset after training (enough rows for the probes, bounded time).
DATASET_BATCHES = 16


class Unsupported(Exception):
    """Data deadpan cannot read yet (strings, ragged tensors, nested inputs): reported, never raised."""


#: Several inputs as a model takes them: a list (or tuple) of arrays in input order, or a dict by input name.
Parts = list[np.ndarray] | dict[str, np.ndarray]


@dataclass(frozen=True)
class Sample:
    """Rows of inputs and targets (and per-sample weights) as NumPy arrays."""

    x: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None = None
    #: Rows in the arrays the sample was drawn from (the whole training set, for arrays given to ``fit``);
    #: None for datasets and generators, whose length deadpan does not read.
    total: int | None = None
    #: A model with several inputs is fed these (same rows); ``x`` is then their per-row concatenation, the
    #: one feature matrix the data checks and the learnability probe read. None for a single input.
    parts: Parts | None = None


def model_feed(sample: Sample) -> Any:
    """What the model is called on for ``sample``: its several inputs, or ``x``."""
    return sample.parts if sample.parts is not None else sample.x


def feed_rows(feed: Any, rows: Any) -> Any:
    """The rows ``rows`` (a slice or an index array) of a model feed: one array or several inputs."""
    return map_parts(lambda a: a[rows], feed)


def map_parts(fn: Any, feed: Any) -> Any:
    """``fn`` applied to each input array of a feed (a list, tuple or dict of them), or to the one array."""
    if isinstance(feed, dict):
        return {k: fn(v) for k, v in feed.items()}
    if isinstance(feed, list | tuple):
        return [fn(v) for v in feed]
    return fn(feed)


def feed_len(feed: Any) -> int:
    """Rows in a model feed."""
    if isinstance(feed, dict):
        return len(next(iter(feed.values())))
    if isinstance(feed, list | tuple):
        return len(feed[0])
    return len(feed)


def _several(a: Any) -> bool:
    """Several arrays (a multi-input model's inputs, a multi-output model's targets), not one array."""
    return isinstance(a, dict | tuple) or (isinstance(a, list) and not _is_row_list(a))


def _flat(parts: list[np.ndarray]) -> np.ndarray:
    """Several inputs as one feature matrix: each flattened per row, side by side."""
    return np.concatenate([p.reshape(len(p), -1) for p in parts], axis=1)


def _inputs(x: Any) -> tuple[list[np.ndarray], list[str] | None]:
    """The input arrays (views, no copy: ``fit``'s arrays may be the whole training set), and the input
    names when they were given as a dict. One input is a list of one array."""
    if not _several(x):
        return [_array(x, "inputs")], None
    names = [str(k) for k in x] if isinstance(x, dict) else None
    arrays = [_array(v, "inputs") for v in (x.values() if isinstance(x, dict) else x)]
    if not arrays or len({len(a) for a in arrays}) != 1:
        raise Unsupported("several inputs with different numbers of rows")
    return arrays, names


def _sample_of(
    arrays: list[np.ndarray], names: list[str] | None, several: bool, y: np.ndarray, w: Any, total: int
) -> Sample:
    """A :class:`Sample` of already sampled rows: one input, or several (``names`` for a dict of them)."""
    if not several:
        return Sample(arrays[0], y, w, total=total)
    parts: Parts = dict(zip(names, arrays, strict=True)) if names is not None else arrays
    return Sample(_flat(arrays), y, w, total=total, parts=parts)


def pick_target(y: Any, head: str | None, index: int = 0) -> Any:
    """The targets of the one output deadpan judges: ``y[head]`` from a dict of targets by output name, the
    ``index``-th of a list of them, or ``y`` itself for a model with one output."""
    if isinstance(y, dict):
        if head is not None and head in y:
            return y[head]
        if len(y) == 1:
            return next(iter(y.values()))
        raise Unsupported("targets given by names that are not the model's output names")
    if isinstance(y, tuple) or (isinstance(y, list) and not _is_row_list(y)):
        return y[index] if len(y) > index else None
    return y


def _array(a: Any, what: str) -> np.ndarray:
    from deadpan.keras.backend import to_numpy

    if isinstance(a, dict | list | tuple) and not _is_row_list(a):
        raise Unsupported(f"{what} nested in several levels of lists or dicts")
    if type(a).__name__ in ("RaggedTensor", "SparseTensor"):
        raise Unsupported(f"{type(a).__name__} {what}")
    arr = np.asarray(a) if isinstance(a, list | np.ndarray) or hasattr(a, "__array__") else to_numpy(a)
    if arr.dtype.kind in "OUS":
        raise Unsupported(f"{what} of strings")
    return arr


def _is_row_list(a: Any) -> bool:
    """A plain list of numbers or rows (one array), not a list of several input arrays."""
    return isinstance(a, list) and (not a or not hasattr(a[0], "shape") or np.ndim(a[0]) == 0)


def _rows(n: int, x_row_bytes: int) -> np.ndarray:
    """Evenly spaced row indices within the row and byte budget."""
    cap = max(1, min(SAMPLE_ROWS, SAMPLE_BYTES // max(x_row_bytes, 1)))
    if n <= cap:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, cap).round().astype(np.int64))


def from_arrays(
    x: Any, y: Any, sample_weight: Any = None, rows: slice | None = None, head: str | None = None
) -> Sample | None:
    """Evenly spaced rows of arrays as ``fit`` takes them: one input or several (a list or a dict), and the
    targets of the output ``head`` (see :func:`pick_target`) when the model has several."""
    y = pick_target(y, head)
    if x is None or y is None:
        return None
    arrays, names = _inputs(x)
    ya = _array(y, "targets")
    if rows is not None:
        arrays, ya = [a[rows] for a in arrays], ya[rows]
    n = len(arrays[0])
    if n != len(ya) or not n:
        return None
    idx = _rows(n, sum(int(a[:1].nbytes) for a in arrays) or 1)
    w = None
    if sample_weight is not None:
        wa = np.asarray(_array(pick_target(sample_weight, head), "sample weights"))
        w = wa[rows][idx] if rows is not None else wa[idx]
    kept = [np.array(a[idx]) for a in arrays]
    return _sample_of(kept, names, _several(x), np.array(ya[idx]), w, n)


def _split(item: Any) -> tuple[Any, Any, Any]:
    if isinstance(item, dict):
        raise Unsupported("dataset elements that are dicts (named inputs)")
    if isinstance(item, tuple | list):
        if len(item) == 1:
            return item[0], None, None
        if len(item) == 2:
            return item[0], item[1], None
        return item[0], item[1], item[2]
    return item, None, None


def from_batches(batches: list[Any]) -> Sample | None:
    xs, ys, ws = [], [], []
    rows = 0
    for item in batches:
        x, y, w = _split(item)
        if y is None:
            continue
        xa, ya = _array(x, "inputs"), _array(y, "targets")
        xs.append(xa)
        ys.append(ya)
        if w is not None:
            ws.append(_array(w, "sample weights"))
        rows += len(xa)
        if rows >= SAMPLE_ROWS:
            break
    if not xs:
        return None
    shape, yshape = xs[0].shape[1:], ys[0].shape[1:]
    keep = [i for i in range(len(xs)) if xs[i].shape[1:] == shape and ys[i].shape[1:] == yshape]
    x = np.concatenate([xs[i] for i in keep])[:SAMPLE_ROWS]
    y = np.concatenate([ys[i] for i in keep])[:SAMPLE_ROWS]
    w = np.concatenate(ws)[: len(x)] if len(ws) == len(xs) and ws else None
    return Sample(x, y, w)


def is_dataset(x: Any) -> bool:
    return type(x).__module__.startswith("tensorflow") and hasattr(x, "take") and hasattr(x, "element_spec")


def is_pydataset(x: Any) -> bool:
    return (
        hasattr(x, "__getitem__")
        and hasattr(x, "__len__")
        and hasattr(x, "on_epoch_end")
        and not (isinstance(x, np.ndarray))
    )


def is_generator(x: Any) -> bool:
    """A Python generator (the only kind of iterator Keras' ``fit`` accepts)."""
    import types

    return isinstance(x, types.GeneratorType)


def kind_of(x: Any) -> str:
    if is_dataset(x):
        return "tf.data.Dataset"
    if is_pydataset(x):
        return "PyDataset"
    if is_generator(x):
        return "generator"
    if (
        hasattr(x, "__len__")
        and hasattr(x, "__iter__")
        and not hasattr(x, "shape")
        and type(x).__name__ in ("DataLoader",)
    ):
        return "DataLoader"
    return "arrays"


def read_after_training(x: Any) -> Sample | None:
    """Sample a dataset or PyDataset once training is over (re-reading it is then harmless)."""
    if is_dataset(x):
        return from_batches(list(x.take(DATASET_BATCHES)))
    if is_pydataset(x):
        n = len(x)
        idx = sorted({int(i) for i in np.linspace(0, max(n - 1, 0), min(n, DATASET_BATCHES))})
        return from_batches([x[i] for i in idx])
    return None


class Tap:
    """A generator handed to ``fit``, re-yielded unchanged while a bounded sample of its batches is kept.

    Keras accepts only real generators (``types.GeneratorType``) as generator input, so ``fit`` is given
    :meth:`generator`, not this object.
    """

    def __init__(self, source: Iterator[Any]) -> None:
        self.source = source
        self.kept: list[Any] = []
        self._rows = 0

    def generator(self) -> Iterator[Any]:
        for i, item in enumerate(self.source):
            try:
                if sampled(i) and self._rows < SAMPLE_ROWS:
                    self.kept.append(item)
                    self._rows += len(_split(item)[0])
            except Exception:
                pass
            yield item
