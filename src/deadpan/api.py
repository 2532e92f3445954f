"""The notebook and in-loop ways in: :func:`diagnose` and :func:`watch`.

Both leave the user's model, optimizer, data and random state exactly as they found them: probes run on
deep copies, hooks are removed on exit, and the RNG state is restored after anything that might draw.
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any

import numpy as np
import torch
from torch import nn

from deadpan.capture import instrument
from deadpan.capture.build import ProbeInputs, build_evidence, make_loss_fn, preserved_rng
from deadpan.capture.distributed import announce, exchange, world
from deadpan.capture.live import Alert, LiveMonitor, StopOn, check_stop_on, top_cause, warn
from deadpan.capture.probes.layers import signal_dies_at
from deadpan.capture.probes.task import infer_task
from deadpan.capture.recorder import SAMPLE_ROWS, LossRecord, Recorder
from deadpan.capture.stream import ARRAY_CHUNK, PROGRESS_EVERY_S, StreamStats, print_progress, scan
from deadpan.capture.tensors import batch_size_of, first_tensor
from deadpan.diagnosis import diagnose_evidence
from deadpan.evidence import Evidence
from deadpan.findings import Collapse, Report
from deadpan.fixes.options import VerifyOptions, verified

#: A layer whose across-sample spread is below this fraction of its mean magnitude carries no information
#: about which input it saw.
SIGNAL_DIES_SPREAD = 1e-4
Batch = tuple[Any, Any, Any]


def report_from(pi: ProbeInputs) -> Report:
    """Probes, checks and diagnosis; a failure anywhere becomes an inconclusive report, not an exception."""
    return evidence_and_report(pi)[1]


def evidence_and_report(pi: ProbeInputs) -> tuple[Evidence | None, Report]:
    """:func:`report_from`, also returning the evidence (None when building it failed): fix trials need
    both."""
    return _diagnosed(lambda: build_evidence(pi), pi.recorder.step_seconds if pi.recorder is not None else ())


def report_of(build: Callable[[], Evidence], step_seconds: Sequence[float] = ()) -> Report:
    """Build the evidence with ``build``, then diagnose; never raises (a failure is an inconclusive report).
    Shared by every framework: the metrics (probe timings and headline numbers) are added here."""
    return _diagnosed(build, step_seconds)[1]


def evidence_and_report_of(
    build: Callable[[], Evidence], step_seconds: Sequence[float] = ()
) -> tuple[Evidence | None, Report]:
    """:func:`report_of`, also returning the evidence (None when building it failed)."""
    return _diagnosed(build, step_seconds)


def _diagnosed(
    build: Callable[[], Evidence], step_seconds: Sequence[float] = ()
) -> tuple[Evidence | None, Report]:
    t0 = time.perf_counter()
    try:
        ev = build()
        report = diagnose_evidence(ev)
    except Exception as exc:  # deadpan must never break the caller
        return None, failed_report(exc, "diagnosing")
    metrics = dict(report.metrics)
    metrics["diagnosis_seconds"] = round(time.perf_counter() - t0, 3)
    metrics["probe_seconds"] = {k: round(v, 3) for k, v in ev.timings.items()}
    metrics["probes"] = probe_summary(ev)
    try:
        from deadpan.reports.figures import figure_data

        metrics["figures"] = figure_data(ev)
    except Exception as exc:  # the plots are extra: their failure must not cost the diagnosis
        metrics["figures_error"] = f"{type(exc).__name__}: {exc}"
    if step_seconds:
        metrics["median_step_seconds"] = float(np.median(step_seconds))
    return ev, _with_metrics(report, metrics)


def failed_report(exc: BaseException, while_: str, errors: Sequence[str] = ()) -> Report:
    """The report when deadpan itself failed (``while_``: what it was doing): inconclusive, listing the
    failure after ``errors`` (what went wrong before), so that the caller still gets a report."""
    import traceback

    return Report(
        verdict="inconclusive",
        summary=f"Inconclusive: deadpan failed while {while_} ({type(exc).__name__}: {exc}).",
        collapse=Collapse(),
        internal_errors=(*errors, traceback.format_exc(limit=3)),
    )


def probe_summary(ev: Evidence) -> dict[str, Any]:
    """Headline numbers of each probe, so a reader sees what the probes found, not only the verdicts."""
    p = ev.probes
    out: dict[str, Any] = {}
    if p.overfit is not None:
        out["overfit_one_batch"] = {
            "steps": p.overfit.steps,
            "loss": [p.overfit.initial_loss, p.overfit.final_loss],
            "score": [p.overfit.initial_score, p.overfit.final_score],
            "fitted": p.overfit.fitted,
        }
    if p.lr_range is not None:
        out["lr_range"] = {
            "user_lr": p.lr_range.user_lr,
            "suggested_lr": p.lr_range.suggested_lr,
            "diverge_lr": p.lr_range.diverge_lr,
        }
    if p.input_dependence is not None:
        out["input_dependence"] = {
            "zeroed_change": p.input_dependence.zeroed_change,
            "permuted_change": p.input_dependence.permuted_change,
        }
    if p.learnability is not None:
        out["learnability"] = {
            "metric": p.learnability.metric,
            "linear": p.learnability.linear_score,
            "nonlinear": p.learnability.nonlinear_score,
            "permuted_labels": p.learnability.permuted_score,
        }
    if p.initial_loss is not None:
        out["initial_loss"] = {"observed": p.initial_loss, "expected": p.expected_initial_loss}
    dead = [s.name for s in p.layers if s.dead_fraction >= 0.5]
    if dead:
        out["layers_mostly_dead"] = dead
    # Where the input information dies: the first layer from which every output is the same for all samples.
    flat = signal_dies_at([s.spread for s in p.layers], SIGNAL_DIES_SPREAD)
    if flat is not None:
        out["signal_dies_at"] = p.layers[flat].name
    return out


def _with_metrics(report: Report, metrics: dict[str, Any]) -> Report:
    from dataclasses import replace

    return replace(report, metrics=metrics)


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
    """
    from deadpan.keras.backend import is_keras_model

    if is_keras_model(model):
        from deadpan.keras.diagnose import diagnose_keras

        options = (verify if isinstance(verify, VerifyOptions) else VerifyOptions()) if verify else None
        return diagnose_keras(model, inputs, targets, loss_fn, optimizer, heldout, options)
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
    final = copy.deepcopy(model)
    record: LossRecord | None = None
    fn = loss_fn
    errors: list[str] = []
    if train and not any(p.is_meta for p in final.parameters()):  # a meta model: the build says why not
        try:
            with preserved_rng(), torch.no_grad():
                out = first_tensor(final.eval()(*train[0][0], **train[0][1]))
                if out is not None:
                    if fn is None:
                        fn = make_loss_fn(None, infer_task(None, out, train[0][2]))
                    sniffer = _LossSniffer()
                    instrument.activate(sniffer)
                    try:
                        fn(out, train[0][2])
                    finally:
                        instrument.deactivate(sniffer)
                    record = sniffer.record
        except Exception as exc:
            errors.append(f"computing the loss on the first batch failed: {type(exc).__name__}: {exc}")
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
    )
    ev, report = evidence_and_report(pi)
    report = _with_metrics(report, {**report.metrics, "data": stream.summary()})
    if verify:
        options = verify if isinstance(verify, VerifyOptions) else VerifyOptions()
        report = verified(report, ev, pi, options)
    return report


# --- watch ---------------------------------------------------------------------------------------------


def recorder_inputs(rec: Recorder, source: str, train_probes: bool = True) -> ProbeInputs:
    """What the diagnosis works from, read off a recorder attached to a known model (``watch``, the
    Lightning and Hugging Face callbacks)."""
    missing = []
    if rec.step == 0:
        missing.append("an optimizer step")
    return ProbeInputs(
        source=source,
        final=rec.model_copy(),
        initial=rec.model_copy(initial=True) if rec.initial_state is not None else None,
        train=list(rec.train_store.batches),
        heldout=list(rec.heldout_store.batches),
        loss=rec.loss,
        optimizer=rec.optimizers[0] if rec.optimizers else None,
        recorder=rec,
        missing=missing,
        train_probes=train_probes,
    )


def take_alert(rec: Recorder, source: str) -> Alert | None:
    """The recorder's confirmed live alert (once), with the top cause of a quick diagnosis of what was
    recorded so far: no probe trains a copy, so it costs about the learnability probe (a fraction of a
    second for small models), paid once."""
    if rec.live is None:
        return None

    def cause() -> str:
        rec.flush()
        return top_cause(report_from(recorder_inputs(rec, source, train_probes=False)))

    return rec.live.take(cause)


def with_live(report: Report, live: LiveMonitor | None) -> Report:
    """The report with what the live checks saw (``metrics["live"]``)."""
    if live is None:
        return report
    try:
        summary = live.summary()
    except Exception as exc:  # the live summary is extra: its failure must not cost the report
        return replace(report, internal_errors=(*report.internal_errors, f"live summary: {exc!r}"))
    return _with_metrics(report, {**report.metrics, "live": summary})


class Watch:
    """Context manager returned by :func:`watch`; holds the :class:`Report` after the block."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer | Iterable[torch.optim.Optimizer] | None = None,
        max_steps: int | None = None,
        probes: bool = True,
        stop_on: StopOn = None,
        live: bool = True,
    ) -> None:
        if isinstance(optimizer, torch.optim.Optimizer):
            opts: tuple[torch.optim.Optimizer, ...] = (optimizer,)
        else:
            opts = tuple(optimizer or ())
        self.model = model
        self.optimizers = opts
        self.max_steps = max_steps
        self.probes = probes
        self.stop_on = check_stop_on(stop_on, live)
        self.live = live
        self.recorder: Recorder | None = None
        self.report: Report | None = None
        #: The live alert, when the output collapsed during the block.
        self.alert: Alert | None = None
        #: Step at which the block was stopped for a collapse (``stop_on="collapsed"``), else None.
        self.stopped_at: int | None = None

    def __enter__(self) -> Watch:
        self.recorder = Recorder(
            self.model, self.optimizers, max_steps=self.max_steps, live=LiveMonitor() if self.live else None
        )
        self.recorder.on_alert = self._alert
        announce()  # under distributed training: rank 0 will wait for this rank's report
        self.recorder.start()
        return self

    def _alert(self, rec: Recorder) -> None:
        alert = take_alert(rec, "watch")
        if alert is None:
            return
        self.alert = alert
        w = world()
        if w is None or w.rank == 0:  # under distributed training only rank 0 speaks
            warn(alert)
        # Stopping one rank would leave the others waiting in their next all-reduce.
        if self.stop_on == "collapsed" and w is None:
            self.stopped_at = rec.step
            raise instrument.StopTraining(f"the output collapsed at step {alert.step} (stop_on='collapsed')")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        rec = self.recorder
        assert rec is not None
        rec.stop()
        try:
            self.report = with_live(report_from(recorder_inputs(rec, "watch", self.probes)), rec.live)
        except Exception as exc:  # the user's block is over: deadpan's failure must not raise into it
            self.report = failed_report(exc, "making the report", rec.internal_errors)
        w = world()
        if w is not None:  # every rank diagnosed its shard; rank 0's report now covers them all
            self.report = exchange(self.report, w)
        return exc_type is instrument.StopTraining


def watch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer | Iterable[torch.optim.Optimizer] | None = None,
    *,
    max_steps: int | None = None,
    probes: bool = True,
    stop_on: StopOn = None,
    live: bool = True,
) -> Watch:
    """Monitor the user's own training loop; diagnose on exit.

    >>> with deadpan.watch(model, optimizer) as w:
    ...     for x, y in loader: ...
    >>> print(w.report)

    Monitoring adds no forward passes and draws no random numbers; statistics are detached and sampled.
    ``max_steps`` ends the block after that many optimizer steps.

    Live alerts: every few steps the output the loss received is checked; once it has collapsed (one answer
    for nearly every input) a :class:`~deadpan.capture.live.CollapseWarning` says "collapsed at step N" with
    the likely cause, and ``stop_on="collapsed"`` then ends the block (the report is still made).
    ``live=False`` turns the checks off.
    """
    return Watch(model, optimizer, max_steps=max_steps, probes=probes, stop_on=stop_on, live=live)
