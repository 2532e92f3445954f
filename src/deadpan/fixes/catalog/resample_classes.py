"""Balance the classes the model trains on by resampling."""

from __future__ import annotations

import numpy as np

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.keras_trial import KerasTrialSetup
from deadpan.phrasebook import framework_of, render
from deadpan.probes.arrays import to_numpy


def _class_ids(y: np.ndarray) -> np.ndarray:
    """Class id per row: integer ids, one-hot rows (argmax) or a single 0/1 column."""
    if y.ndim >= 2 and y.shape[-1] > 1:
        return y.argmax(-1).reshape(len(y)).astype(np.int64)
    flat = y.reshape(len(y))
    return (flat > 0.5).astype(np.int64) if y.dtype.kind == "f" else flat.astype(np.int64)


def _row_weights(y: np.ndarray) -> np.ndarray:
    """Each row's drawing weight, inversely proportional to its class's frequency; raise
    :class:`NotApplicable` when the rows hold one class only."""
    ids = _class_ids(y)
    counts = np.bincount(ids)
    if int((counts > 0).sum()) < 2:
        raise NotApplicable("the captured training rows hold only one class")
    weights: np.ndarray = (1.0 / np.maximum(counts, 1).astype(np.float64))[ids]
    return weights


@register
class ResampleClasses(Fix):
    """Draw the training rows with probability inversely proportional to their class's frequency, so every
    class fills about the same share of each batch. The gradient no longer pays the model for predicting the
    majority class for every input. The same effect as class weights in the loss, but for any loss."""

    name = "resample-classes"
    title = "resampling the classes to balance"
    categories = ("data.imbalance",)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        import torch

        from deadpan.fixes.batches import batch_size, rebatched, stacked

        if setup.task.kind not in ("multiclass", "binary"):
            raise NotApplicable("resampling needs single-label class targets")
        x, y = stacked(setup.train)
        weights = torch.from_numpy(_row_weights(to_numpy(y)))
        g = torch.Generator().manual_seed(setup.seed)
        order = torch.multinomial(weights, len(weights), replacement=True, generator=g)
        return setup.but(self.name, train=rebatched(x[order], y[order], batch_size(setup.train)))

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        if setup.task.kind not in ("multiclass", "binary"):
            raise NotApplicable("resampling needs single-label class targets")
        weights = _row_weights(np.asarray(setup.y))
        rng = np.random.default_rng(setup.seed)  # its own generator: the global state is the user's
        order = rng.choice(len(weights), size=len(weights), replace=True, p=weights / weights.sum())
        return setup.but(self.name, x=setup.x[order], y=setup.y[order], class_weight=None)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return render(Change("resample_classes", what="class_weight"), framework_of(ev))
