"""``deadpan.diagnose``: probe a (trained) model and its data without the training loop, for notebooks.

The user's model, optimizer, data and random state are left exactly as they were: probes run on deep copies
and the RNG state is restored after anything that might draw.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from deadpan.capture import instrument
from deadpan.capture.build import unoptimized_parameters
from deadpan.capture.loss_record import LossRecord
from deadpan.capture.losses import make_loss_fn, task_of
from deadpan.capture.probe_inputs import ProbeInputs
from deadpan.capture.report import evidence_and_report
from deadpan.capture.samples import SAMPLE_ROWS
from deadpan.capture.stream import ARRAY_CHUNK, PROGRESS_EVERY_S, StreamStats, print_progress, scan
from deadpan.findings import Collapse, Report
from deadpan.fixes.options import VerifyOptions, proven
from deadpan.pipeline import with_metrics
from deadpan.probes.rng import preserved_rng
from deadpan.probes.tensors import batch_size_of, first_tensor

Batch = tuple[Any, Any, Any]


# --- diagnose -------------------------------------------------------------------------------------------


def _as_tensor(a: Any, float_dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A tensor of the user's data; float arrays take the model's floating dtype (float32 by default)."""
    if isinstance(a, torch.Tensor):
        return a.detach()
    arr = np.asarray(a)
    if arr.dtype.kind == "f":
        return torch.from_numpy(arr.astype(np.float64, copy=True)).to(float_dtype)
    if arr.dtype.kind in "iub":
        return torch.from_numpy(arr.astype(np.int64, copy=True))
    raise TypeError(f"cannot use inputs of dtype {arr.dtype} (expected numbers)")


def _float_dtype(model: nn.Module) -> torch.dtype:
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)


def _iter_batches(inputs: Any, targets: Any, dtype: torch.dtype = torch.float32) -> Iterator[Batch]:
    """(args, kwargs, target) batches from tensors or arrays (in chunks) or a DataLoader, read lazily: the
    whole data passes through :func:`~deadpan.capture.stream.scan` once, whatever its size."""
    if targets is None:
        for item in inputs:
            if isinstance(item, dict):
                tgt = item.get("labels", item.get("label", item.get("y")))
                xs = {
                    k: _as_tensor(v, dtype) if isinstance(v, torch.Tensor | np.ndarray) else v
                    for k, v in item.items()
                    if k not in ("labels", "label", "y")
                }
                yield (), xs, _as_tensor(tgt, dtype)
            else:
                *xs, tgt = item
                yield tuple(_as_tensor(x, dtype) for x in xs), {}, _as_tensor(tgt, dtype)
        return
    x, y = _as_tensor(inputs, dtype), _as_tensor(targets, dtype)
    if len(x) != len(y):
        raise ValueError(f"inputs have {len(x)} rows but targets {len(y)}")
    for i in range(0, len(x), ARRAY_CHUNK):
        yield (x[i : i + ARRAY_CHUNK],), {}, y[i : i + ARRAY_CHUNK]


def _read(data: Any, targets: Any, dtype: torch.dtype, max_rows: int | None, sample_rows: int) -> StreamStats:
    with preserved_rng():  # a shuffling DataLoader draws from the global RNG
        stats = scan(
            _iter_batches(data, targets, dtype),
            max_rows=max_rows,
            sample_rows=sample_rows,
            progress=print_progress,
        )
    if stats.seconds >= PROGRESS_EVERY_S:
        print_progress(stats)
        if sys.stderr.isatty():
            sys.stderr.write("\n")
    return stats


class _LossSniffer:
    """Listens for the first loss function call only (to learn what ``loss_fn`` really computes)."""

    def __init__(self) -> None:
        self.record: LossRecord | None = None

    def on_loss(self, fn: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        if self.record is None and len(args) >= 2 and all(isinstance(a, torch.Tensor) for a in args[:2]):
            extra = {k: v for k, v in kwargs.items() if k not in ("input", "target")}
            if len(args) > 2 and "weight" not in extra:
                extra["weight"] = args[2]
            self.record = LossRecord(fn, args[0].detach().clone(), args[1].detach().clone(), extra, calls=1)

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *a, **k: None


def diagnose(
    model: nn.Module | Any,
    inputs: Any,
    targets: Any = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | Any | None = None,
    optimizer: torch.optim.Optimizer | Any | None = None,
    *,
    heldout: tuple[Any, Any] | None = None,
    verify: bool | VerifyOptions = False,
    search: bool = True,
    search_budget: float | None = None,
    max_rows: int | None = None,
) -> Report:
    """Probe a (trained) model and its data without the training loop, for notebooks.

    ``inputs``/``targets`` are tensors or arrays; or pass a DataLoader (yielding ``(x, y)``) as ``inputs``
    and leave ``targets`` out. ``loss_fn`` defaults to cross-entropy for integer targets, MSE otherwise;
    ``optimizer`` lends its class and learning rate to the LR range test. The model is never modified:
    every probe runs on a copy.

    Keras models are accepted too: ``loss_fn``/``optimizer`` then default to the compiled loss and
    optimizer (pass a Keras loss and optimizer for a model that was never compiled).

    The data is read once, every row (or the first ``max_rows``), with bounded memory: the data checks count
    classes and NaN/inf over all of it, and the probes use a uniform sample of 2048 rows
    (:mod:`deadpan.capture.stream`; ``report.metrics["data"]`` has the rows read and the throughput). A long
    pass shows its progress on a terminal.

    ``verify=True`` (or a :class:`~deadpan.fixes.options.VerifyOptions`) proves the top causes: each fix
    trains on a copy next to an untouched control, both continuing from the model as given (PyTorch trials
    in a local process pool when that pays, Keras trials in this process).

    ``search`` (on by default): when the output is broken and no check is sure why, copies of the model
    each train with one stage changed (learning rate, initialisation, inputs, loss input, regularisation,
    ...) and the stage whose change restores learning is named, marked verified. It takes at most
    ``search_budget`` seconds (default 60; the search stops early at a clear win) and never runs on a
    healthy model.
    """
    from deadpan.keras.backend import is_keras_model

    options = _options(verify, search, search_budget)
    if is_keras_model(model):
        from deadpan.api.keras import diagnose_keras

        return diagnose_keras(model, inputs, targets, loss_fn, optimizer, heldout, options)
    data = _read_data(model, inputs, targets, heldout, max_rows)
    if isinstance(data, Report):
        return data
    stream, train, held = data
    final = copy.deepcopy(model)
    fn, record, errors = _first_batch_loss(final, train, loss_fn)
    pi = ProbeInputs(
        source="diagnose",
        final=final,
        initial=None,
        train=train,
        heldout=held,
        loss=record,
        optimizer=optimizer,
        loss_fn=fn,
        errors=errors,
        adapt_outputs=False,
        stream=stream,
        unoptimized=_unoptimized(model, optimizer),
    )
    ev, report = evidence_and_report(pi)
    report = with_metrics(report, {**report.metrics, "data": stream.summary()})
    return proven(report, ev, pi, options)


def _options(verify: bool | VerifyOptions, search: bool, search_budget: float | None) -> VerifyOptions:
    """The trial options ``diagnose``'s arguments ask for."""
    base = verify if isinstance(verify, VerifyOptions) else VerifyOptions()
    return dataclasses.replace(
        base, verify=bool(verify), search=search, search_budget=search_budget or base.search_budget
    )


def _unoptimized(model: nn.Module, optimizer: Any) -> tuple[int, tuple[str, ...]] | None:
    """The user's own parameters that ``optimizer`` does not hold (None without a torch optimizer)."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        return None
    return unoptimized_parameters(model, optimizer)


def _read_data(
    model: nn.Module, inputs: Any, targets: Any, heldout: tuple[Any, Any] | None, max_rows: int | None
) -> tuple[StreamStats, list[Batch], list[Batch]] | Report:
    """One pass over the training data (its sample, and the held-out data's) in the model's floating dtype;
    an inconclusive report when the data cannot be read or holds no rows."""
    try:
        dtype = _float_dtype(model)
        stream = _read(inputs, targets, dtype, max_rows, SAMPLE_ROWS)
        train = stream.sample
        held = _read(*heldout, dtype, max_rows, SAMPLE_ROWS // 2).sample if heldout is not None else []
    except Exception as exc:
        return Report(
            verdict="inconclusive",
            summary=f"Inconclusive: could not read the data ({type(exc).__name__}: {exc}).",
            collapse=Collapse(),
            missing=("data deadpan can read",),
        )
    if not any(batch_size_of(b[2]) for b in train):
        return Report(
            verdict="inconclusive",
            summary="Inconclusive: the data holds no rows (an empty dataset): there is nothing to diagnose.",
            collapse=Collapse(),
            missing=("data with at least one row",),
        )
    return stream, train, held


def _first_batch_loss(
    final: nn.Module, train: list[Batch], loss_fn: Any
) -> tuple[Any, LossRecord | None, list[str]]:
    """The loss on the first batch, computed once on the model's copy ``final``: the loss callable
    (``loss_fn``, or the default for the task), what it really computes (the loss function it called, as
    recorded), and what went wrong computing it."""
    record: LossRecord | None = None
    fn = loss_fn
    errors: list[str] = []
    if train and not any(p.is_meta for p in final.parameters()):  # a meta model: the build says why not
        try:
            with preserved_rng(), torch.no_grad():
                out = first_tensor(final.eval()(*train[0][0], **train[0][1]))
                if out is not None:
                    if fn is None:
                        fn = make_loss_fn(None, task_of(None, out, train[0][2]))
                    sniffer = _LossSniffer()
                    instrument.activate(sniffer)
                    try:
                        fn(out, train[0][2])
                    finally:
                        instrument.deactivate(sniffer)
                    record = sniffer.record
        except Exception as exc:
            errors.append(f"computing the loss on the first batch failed: {type(exc).__name__}: {exc}")
    return fn, record, errors
