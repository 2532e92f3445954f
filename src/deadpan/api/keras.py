"""``deadpan.diagnose`` for Keras models: probe a (trained) model and its data, in a notebook.

The model is only called in inference mode; every probe that trains works on a ``clone_model`` copy, so
the user's weights, optimizer variables and compiled state are left exactly as they were.
"""

from __future__ import annotations

from typing import Any

from deadpan.findings import Collapse, Report
from deadpan.fixes.options import VerifyOptions, proven
from deadpan.keras import data as kdata
from deadpan.keras.build import evidence_and_report_for_run
from deadpan.keras.describe import judged_output
from deadpan.keras.run import KerasRun


def _sample(inputs: Any, targets: Any, head: str | None) -> kdata.Sample | None:
    if targets is not None:
        return kdata.from_arrays(inputs, targets, head=head)
    if kdata.is_dataset(inputs) or kdata.is_pydataset(inputs):
        return kdata.read_after_training(inputs)
    if isinstance(inputs, tuple) and len(inputs) == 2:
        return kdata.from_arrays(*inputs, head=head)
    return kdata.from_batches(list(inputs))


def diagnose_keras(
    model: Any,
    inputs: Any,
    targets: Any = None,
    loss: Any = None,
    optimizer: Any = None,
    heldout: tuple[Any, Any] | None = None,
    options: VerifyOptions | None = None,
) -> Report:
    """See :func:`deadpan.diagnose`. ``loss``/``optimizer`` are used when the model is not compiled. The
    search and the fix trials (``options``) continue from the model as given (deadpan saw no earlier
    weights)."""
    run = KerasRun(model, compile_loss=loss, compile_optimizer=optimizer)
    try:
        run.train = _sample(inputs, targets, judged_output(model))
        if heldout is not None:
            run.heldout = kdata.from_arrays(*heldout, head=judged_output(model))
    except kdata.Unsupported as exc:
        return Report(
            verdict="inconclusive",
            summary=f"Inconclusive: not supported yet: {exc}.",
            collapse=Collapse(),
            missing=(f"not supported yet: {exc}",),
        )
    except Exception as exc:
        return Report(
            verdict="inconclusive",
            summary=f"Inconclusive: could not read the data ({type(exc).__name__}: {exc}).",
            collapse=Collapse(),
            missing=("data deadpan can read",),
        )
    ev, report = evidence_and_report_for_run(run, source="diagnose")
    if options is None or not model.built:
        return report
    run.initial_values = [w.copy() for w in model.get_weights()]
    return proven(report, ev, run, options)
