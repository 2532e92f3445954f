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
    """Data deadpan cannot read yet (several inputs, strings, ragged tensors): reported, never raised."""


@dataclass(frozen=True)
class Sample:
    """Rows of inputs and targets (and per-sample weights) as NumPy arrays."""

    x: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None = None
    #: Rows in the arrays the sample was drawn from (the whole training set, for arrays given to ``fit``);
    #: None for datasets and generators, whose length deadpan does not read.
    total: int | None = None


def _array(a: Any, what: str) -> np.ndarray:
    from deadpan.keras.backend import to_numpy

    if isinstance(a, dict | list | tuple) and not _is_row_list(a):
        raise Unsupported(f"{what} with several arrays (a model with several inputs or outputs)")
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


def from_arrays(x: Any, y: Any, sample_weight: Any = None, rows: slice | None = None) -> Sample | None:
    if x is None or y is None:
        return None
    xa, ya = _array(x, "inputs"), _array(y, "targets")
    if rows is not None:
        xa, ya = xa[rows], ya[rows]
    if len(xa) != len(ya) or not len(xa):
        return None
    idx = _rows(len(xa), int(xa[:1].nbytes) or 1)
    w = None
    if sample_weight is not None:
        wa = np.asarray(_array(sample_weight, "sample weights"))
        w = wa[rows][idx] if rows is not None else wa[idx]
    return Sample(np.array(xa[idx]), np.array(ya[idx]), w, total=len(xa))


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
