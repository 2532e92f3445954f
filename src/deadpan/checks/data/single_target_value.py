"""DP103 single-target-value."""

from __future__ import annotations

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import numeric, rows
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding

#: Fewer finite target rows than this say nothing about the target distribution.
MIN_TARGETS = 2


@register
class SingleTargetValue(Check):
    """Every training target has the same value.

    What it detects:
        The sampled training targets (class ids, one-hot rows or regression values) hold a single distinct
        value.

    Why it makes the output constant:
        With one target value the loss is minimised exactly by answering that value for every input, whatever
        the input is. The network learns precisely that: a constant output is the correct solution to the
        problem it was given.

    Fix:
        Fix the label pipeline: read the targets from the right column or attribute, do not overwrite them in
        the loop (``y = y[0]``, ``torch.zeros_like``), check that a filter or split did not keep a single
        class, and that the dataset's ``__getitem__`` returns the sample's own label.
    """

    code = "DP103"
    name = "single-target-value"
    category = "data.labels"
    requires = ("data",)

    def judge(self, ev: Evidence) -> Finding | None:
        assert ev.data is not None
        y = ev.data.y
        if not numeric(y):
            return None
        table = rows(y)
        table = table[np.isfinite(table).all(axis=1)]
        if len(table) < MIN_TARGETS:
            return None
        distinct = np.unique(table, axis=0)
        if len(distinct) != 1:
            return None
        stream = ev.data.stream
        if stream is not None and stream.distinct_classes is not None and stream.distinct_classes > 1:
            return None  # the sample missed the rarer classes; every row of the data holds more than one
        counted = f"all {stream.rows} training targets (every row read)" if stream is not None else None
        value = distinct[0]
        shown = (
            f"{value[0]:.6g}" if len(value) == 1 else "[" + ", ".join(f"{v:.3g}" for v in value[:10]) + "]"
        )
        kind = ev.task.kind if ev.task is not None else "unknown"
        return self.finding(
            ev,
            message=f"{counted or f'all {len(table)} sampled training targets'} have the same value {shown}: "
            "the best answer "
            "for every input is that value, so the network learns a constant.",
            change=Change("fix_label_pipeline", what="targets", current=shown),
            evidence={
                "n_targets": len(table),
                "distinct_values": 1,
                "value": shown,
                "task": kind,
                "samples_seen": ev.data.samples_seen,
            },
            strength=0.95,
        )
