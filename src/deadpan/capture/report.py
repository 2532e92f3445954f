"""A PyTorch recording to a report: the probe inputs read off a recorder, and the pipeline run on them.

A recorder attached to a known model (``watch``, the Lightning and Hugging Face callbacks) or one that found
the model itself in a plain loop (``deadpan run``); and mid-run, a live alert's quick diagnosis.
"""

from __future__ import annotations

from typing import Any

from deadpan.capture.alerts import top_cause
from deadpan.capture.build import build_evidence
from deadpan.capture.live import Alert
from deadpan.capture.probe_inputs import NO_MODEL, ProbeInputs
from deadpan.capture.recorder import Recorder
from deadpan.evidence import Evidence
from deadpan.findings import Report
from deadpan.pipeline import evidence_and_report_of, with_live


def report_from(pi: ProbeInputs) -> Report:
    """Probes, checks and diagnosis; a failure anywhere becomes an inconclusive report, not an exception."""
    return evidence_and_report(pi)[1]


def evidence_and_report(pi: ProbeInputs) -> tuple[Evidence | None, Report]:
    """:func:`report_from`, also returning the evidence (None when building it failed): fix trials need
    both."""
    steps = pi.recorder.step_seconds if pi.recorder is not None else ()
    return evidence_and_report_of(lambda: build_evidence(pi), steps)


def recorder_inputs(rec: Recorder, source: str, train_probes: bool = True) -> ProbeInputs:
    """What the diagnosis works from, read off a recorder attached to a known model (``watch``, the
    Lightning and Hugging Face callbacks)."""
    missing = []
    if rec.step == 0:
        missing.append("an optimizer step")
    return ProbeInputs(
        source=source,
        final=rec.model_copy(),
        initial=_initial_copy(rec),
        train=list(rec.train_store.batches),
        heldout=list(rec.heldout_store.batches),
        loss=rec.loss,
        optimizer=rec.optimizers[0] if rec.optimizers else None,
        recorder=rec,
        missing=missing,
        train_probes=train_probes,
    )


def _initial_copy(rec: Recorder) -> Any:
    """A copy of the model before training: from the snapshot taken at the first optimizer step, or, when no
    step was ever taken, of the model as it is (nothing changed its weights: a loop that never calls
    ``optimizer.step()``); None when neither holds."""
    if rec.initial_state is not None:
        return rec.model_copy(initial=True)
    return rec.model_copy() if rec.step == 0 else None


def _copies(rec: Recorder) -> tuple[Any, Any, list[str]]:
    """Copies of the trained model and of the model before training. A model that cannot be deep-copied
    (it holds a lock, a file, a generator) is probed as it is, since the training has ended; there is then no
    copy before training, so the probes and fix trials that need one are skipped with the reason."""
    if rec.model is None:
        return None, None, []
    try:
        return rec.model_copy(), _initial_copy(rec), []
    except Exception as exc:
        why = f"the model cannot be deep-copied ({type(exc).__name__}: {exc})"
        return rec.model, None, [f"copy: {why}; probed the trained model itself"]


def plain_report(rec: Recorder, reference: Any = None) -> tuple[ProbeInputs, Evidence | None, Report]:
    """The diagnosis of a plain PyTorch loop from what ``rec`` recorded (``deadpan run``: the model and the
    optimizer were discovered), with the run's live checks; ``reference``: for a generator, the data its
    discriminator was shown as real (see :func:`deadpan.script.models.real_samples`)."""
    observed_training = rec.step > 0 or rec.backward_calls > 0
    missing = []
    if rec.model is None:
        missing.append(NO_MODEL)
    elif not observed_training:
        missing.append("a training step (no backward() or optimizer.step() call)")
    final, initial, errors = _copies(rec)
    pi = ProbeInputs(
        source="run",
        final=final,
        initial=initial,
        errors=errors,
        train=list(rec.train_store.batches) if observed_training else [],
        heldout=list(rec.heldout_store.batches),
        loss=rec.loss,
        optimizer=rec.optimizers[0] if rec.optimizers else None,
        recorder=rec,
        missing=missing,
        reference=reference,
    )
    ev, report = evidence_and_report(pi)
    return pi, ev, with_live(report, rec.live)


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
