"""DP112 nonfinite-inputs."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import numeric
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding


def _nonfinite(a: np.ndarray | None) -> tuple[int, int]:
    """(non-finite elements, rows holding one) in a numeric sample; (0, 0) when there is none."""
    if a is None or not numeric(a):
        return 0, 0
    arr = np.asarray(a, dtype=float)
    bad = ~np.isfinite(arr)
    if arr.ndim == 0:
        return int(bad), int(bad)
    return int(bad.sum()), int(bad.reshape(arr.shape[0], int(np.prod(arr.shape[1:]))).any(axis=1).sum())


@register
class NonfiniteInputs(Check):
    """NaN or inf in the training inputs or targets.

    What it detects:
        A training batch whose inputs or targets held NaN or inf (the first such step, from capture), or
        NaN/inf in the sampled inputs and targets.

    Why it makes the output constant:
        One NaN in a batch makes the loss and every gradient NaN; the optimizer step writes NaN into the
        weights, and from then on the model outputs NaN (or one fixed value after a NaN-safe argmax) for every
        input.

    Fix:
        Clean the data before training: find the source (``torch.isnan(x).any()``, ``np.isinf``), impute
        missing values with training-set statistics (``sklearn.impute.SimpleImputer``, ``np.nan_to_num``),
        drop rows with missing targets, and guard ``log``/division in preprocessing against zero.
    """

    code = "DP112"
    name = "nonfinite-inputs"
    category = "data.inputs"
    requires = ("data",)

    def judge(self, ev: Evidence) -> Finding | None:
        data = ev.data
        assert data is not None
        x_bad, x_rows = _nonfinite(data.x)
        y_bad, y_rows = _nonfinite(data.y)
        input_step, target_step = data.nonfinite_input_step, data.nonfinite_target_step
        stream = data.stream
        if stream is not None:  # every row was read: its counts are exact, the sample's are not
            x_bad, x_rows = stream.nonfinite_input_rows, stream.nonfinite_input_rows
            y_bad, y_rows = stream.nonfinite_target_rows, stream.nonfinite_target_rows
            input_step = target_step = None
        if input_step is None and target_step is None and x_bad == 0 and y_bad == 0:
            return None
        where = []
        if input_step is not None or x_bad:
            where.append("inputs")
        if target_step is not None or y_bad:
            where.append("targets")
        steps = [s for s in (input_step, target_step) if s is not None]
        first = f" from step {min(steps)}" if steps else ""
        first_row = None
        if stream is not None:
            rows = [
                r
                for r in (stream.first_nonfinite_input_row, stream.first_nonfinite_target_row)
                if r is not None
            ]
            first_row = min(rows) if rows else None
            first = f" ({max(x_rows, y_rows)} of {stream.rows} rows, the first at row {first_row})"
        return self.finding(
            ev,
            message=f"the training {' and '.join(where)} hold NaN or inf{first}: a single non-finite value "
            "turns the loss and the gradients into NaN, the update writes NaN into the weights, and the "
            "output is the same (NaN) for every input.",
            change=Change("clean_nonfinite_data", what=" and ".join(where)),
            evidence={
                "nonfinite_input_step": input_step,
                "nonfinite_target_step": target_step,
                "first_step": min(steps) if steps else None,
                "sample_nonfinite_inputs": x_bad,
                "sample_rows_with_nonfinite_inputs": x_rows,
                "sample_nonfinite_targets": y_bad,
                "sample_rows_with_nonfinite_targets": y_rows,
                "rows_read": stream.rows if stream is not None else None,
                "first_row": first_row,
            },
            strength=0.95,
        )
