"""DP503 same-batch-every-step."""

from __future__ import annotations

import math

from deadpan.checks.base import Check, register
from deadpan.evidence import Evidence
from deadpan.findings import Finding

#: Fewer fingerprinted batches than this say nothing about repetition.
MIN_FINGERPRINTS = 5
#: At most this many distinct batches: the loop sees (nearly) one batch.
FEW_DISTINCT = 2
#: Or distinct batches at most this fraction of those fingerprinted, once at least ``MIN_FOR_FRACTION`` were.
DISTINCT_FRACTION = 0.05
MIN_FOR_FRACTION = 10
#: ``next(iter(loader))`` each step shows as one new iterator per optimizer step (at least this many).
ITERS_PER_STEP_RESTART = 0.9
STRENGTH = 0.8
STRENGTH_RESTARTED_LOADER = 0.9


@register
class SameBatchEveryStep(Check):
    """The training loop sees the same batch at (nearly) every step.

    What it detects:
        A DataLoader over a dataset bigger than one batch, from which the loop only ever gets one or two
        distinct batches, typically ``x, y = next(iter(loader))`` inside the loop with ``shuffle=False``,
        which restarts the loader and returns its first batch every time.

    Why it makes the output constant:
        The model only ever sees the few examples of that batch. It fits them (or their average) and learns
        nothing about the rest of the data, so on every other input it answers roughly the same thing: that
        batch's majority class or mean target.

    Fix:
        Iterate the loader, creating the iterator once per epoch: ``for epoch in range(epochs): for x, y in
        loader: ...``.
    """

    code = "DP503"
    name = "same-batch-every-step"
    category = "train.loop"
    requires = ("data",)

    def judge(self, ev: Evidence) -> Finding | None:
        data = ev.data
        assert data is not None
        distinct, seen = data.distinct_batches, data.batches_fingerprinted
        if distinct is None or seen < MIN_FINGERPRINTS:
            return None
        # Full-batch training on a tensor (no DataLoader, dataset_size unknown) repeats one batch on purpose.
        if data.dataset_size is None or data.batch_size is None or data.batch_size <= 0:
            return None
        if data.dataset_size <= data.batch_size:
            return None
        per_epoch = math.ceil(data.dataset_size / data.batch_size)
        if distinct >= min(per_epoch, seen):
            return None
        few = distinct <= FEW_DISTINCT
        rare = seen >= MIN_FOR_FRACTION and distinct <= DISTINCT_FRACTION * seen
        if not (few or rare):
            return None
        iters = data.loader_iters_per_step
        restarted = iters is not None and iters >= ITERS_PER_STEP_RESTART
        return self.finding(
            message=f"only {distinct} distinct batch(es) among the {seen} training batches fingerprinted, "
            f"from a dataset of {data.dataset_size} samples in batches of {data.batch_size} ({per_epoch} "
            "per epoch)"
            + (
                f"; the loop creates a new DataLoader iterator at every step ({iters:.2g} per step: "
                "`next(iter(loader))`)"
                if restarted and iters is not None
                else ""
            )
            + ": the model only ever learns from the same few examples.",
            fix="create the iterator once per epoch and loop over it: `for epoch in range(epochs):` / `for "
            "x, y in loader:` instead of calling `next(iter(loader))` every step",
            evidence={
                "distinct_batches": distinct,
                "batches_fingerprinted": seen,
                "dataset_size": data.dataset_size,
                "batch_size": data.batch_size,
                "batches_per_epoch": per_epoch,
                "loader_iters_per_step": iters,
            },
            strength=STRENGTH_RESTARTED_LOADER if restarted else STRENGTH,
        )
