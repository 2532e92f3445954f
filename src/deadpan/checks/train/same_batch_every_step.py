"""DP503 same-batch-every-step."""

from __future__ import annotations

import math

from deadpan.checks.base import Check, register
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.phrasebook import framework_of, say

#: Fewer fingerprinted batches than this say nothing about repetition.
MIN_FINGERPRINTS = 5
#: At most this many distinct batches: the loop sees (nearly) one batch.
FEW_DISTINCT = 2
#: Or distinct batches at most this fraction of those fingerprinted, once at least ``MIN_FOR_FRACTION`` were.
DISTINCT_FRACTION = 0.05
MIN_FOR_FRACTION = 10
#: ``next(iter(loader))`` each step shows as one new iterator per optimizer step (at least this many).
ITERS_PER_STEP_RESTART = 0.9
#: Without a DataLoader the dataset is the tensor the loop indexes its batches from. A "batch" holding more
#: than this share of that tensor is not a minibatch but a training split used whole (``model(x[train_idx])``
#: at every step: full-batch training on purpose, usually 60-90% of the data), so it is left alone.
MINIBATCH_SHARE = 0.5
STRENGTH = 0.8
STRENGTH_RESTARTED_LOADER = 0.9


@register
class SameBatchEveryStep(Check):
    """The training loop sees the same batch at (nearly) every step.

    What it detects:
        A DataLoader over a dataset bigger than one batch, from which the loop only ever gets one or two
        distinct batches, typically ``x, y = next(iter(loader))`` inside the loop with ``shuffle=False``,
        which restarts the loader and returns its first batch every time. Without a DataLoader: a loop that
        indexes a new batch from a bigger tensor at every step, but always the same rows (``x[:64]`` or
        ``idx = torch.arange(64)`` where ``perm[i:i + 64]`` was meant).

    Why it makes the output constant:
        The model only ever sees the few examples of that batch. It fits them (or their average) and learns
        nothing about the rest of the data, so on every other input it answers roughly the same thing: that
        batch's majority class or mean target.

    Fix:
        Iterate the loader, creating the iterator once per epoch: ``for epoch in range(epochs): for x, y in
        loader: ...``. Indexing tensors by hand: draw ``perm = torch.randperm(n)`` once per epoch and take
        ``idx = perm[i:i + batch_size]`` for ``i in range(0, n, batch_size)``. Keras: pass the whole arrays to
        ``model.fit(x, y, batch_size=..., shuffle=True)`` rather than ``train_on_batch`` on the same slice.
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
        # Unknown dataset size: no DataLoader, and the loop passes one tensor (the same object) at every step
        # or builds it from no tensor the recorder could find. Full-batch training repeats it on purpose.
        if data.dataset_size is None or data.batch_size is None or data.batch_size <= 0:
            return None
        if data.dataset_size <= data.batch_size:
            return None
        iters = data.loader_iters_per_step
        loader = iters is not None and iters > 0  # else the batches are indexed from a tensor by hand
        if not loader and data.batch_size > MINIBATCH_SHARE * data.dataset_size:
            return None
        per_epoch = math.ceil(data.dataset_size / data.batch_size)
        if distinct >= min(per_epoch, seen):
            return None
        few = distinct <= FEW_DISTINCT
        rare = seen >= MIN_FOR_FRACTION and distinct <= DISTINCT_FRACTION * seen
        if not (few or rare):
            return None
        restarted = iters is not None and iters >= ITERS_PER_STEP_RESTART
        source = say("batch_source", framework_of(ev), loader=loader, size=data.dataset_size)
        change = Change(
            "fresh_batch_every_step",
            what="batches",
            current=distinct,
            proposed=per_epoch,
            params={"loader": loader},
        )
        return self.finding(
            ev,
            message=f"only {distinct} distinct batch(es) among the {seen} training batches fingerprinted, "
            f"{source} in batches of {data.batch_size} ({per_epoch} per epoch)"
            + (
                f"; the loop creates a new DataLoader iterator at every step ({iters:.2g} per step: "
                "`next(iter(loader))`)"
                if restarted and iters is not None
                else ""
            )
            + ": the model only ever learns from the same few examples.",
            change=change,
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
