"""The pipeline floor: evidence to report, the one way every entry point diagnoses.

Checks, then the verdict and the ranking (:mod:`deadpan.diagnosis`), then the report's metrics (probe timings
and headline numbers, plot data, the live checks' summary). Framework-free: whoever captured the evidence
(PyTorch, Keras, a callback, a script run) hands over a function that builds it, and gets a report back; a
failure anywhere becomes an inconclusive report, never an exception into the caller.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from deadpan.checks import run_checks
from deadpan.diagnosis import judge
from deadpan.evidence import Evidence
from deadpan.findings import Collapse, Report
from deadpan.measures import signal_dies_at

#: A layer whose across-sample spread is below this fraction of its mean magnitude carries no information
#: about which input it saw.
SIGNAL_DIES_SPREAD = 1e-4


class LiveSummary(Protocol):
    """What the report needs of a live monitor (:class:`deadpan.capture.live.LiveMonitor`)."""

    def summary(self) -> dict[str, Any]: ...


def diagnose_evidence(ev: Evidence) -> Report:
    """Run every check on ``ev`` and build the report."""
    findings, skipped, errors = run_checks(ev)
    return judge(ev, findings, skipped, errors)


def report_of(build: Callable[[], Evidence], step_seconds: Sequence[float] = ()) -> Report:
    """Build the evidence with ``build``, then diagnose; never raises (a failure is an inconclusive report).
    Shared by every framework: the metrics (probe timings and headline numbers) are added here."""
    return evidence_and_report_of(build, step_seconds)[1]


def evidence_and_report_of(
    build: Callable[[], Evidence], step_seconds: Sequence[float] = ()
) -> tuple[Evidence | None, Report]:
    """:func:`report_of`, also returning the evidence (None when building it failed): fix trials need
    both."""
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
    return ev, with_metrics(report, metrics)


def failed_report(exc: BaseException, while_: str, errors: Sequence[str] = ()) -> Report:
    """The report when deadpan itself failed (``while_``: what it was doing): inconclusive, listing the
    failure after ``errors`` (what went wrong before), so that the caller still gets a report."""
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


def with_metrics(report: Report, metrics: dict[str, Any]) -> Report:
    """The report with ``metrics`` in place of its own."""
    return replace(report, metrics=metrics)


def with_live(report: Report, live: LiveSummary | None) -> Report:
    """The report with what the live checks saw (``metrics["live"]``)."""
    if live is None:
        return report
    try:
        summary = live.summary()
    except Exception as exc:  # the live summary is extra: its failure must not cost the report
        return replace(report, internal_errors=(*report.internal_errors, f"live summary: {exc!r}"))
    return with_metrics(report, {**report.metrics, "live": summary})
