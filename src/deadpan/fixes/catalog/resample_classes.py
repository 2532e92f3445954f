"""Balance the classes the model trains on by resampling."""

from __future__ import annotations

import numpy as np
import torch

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.batches import batch_size, rebatched, stacked
from deadpan.fixes.keras_trial import KerasTrialSetup
from deadpan.phrasebook import framework_of, render


def _class_ids(y: torch.Tensor) -> torch.Tensor:
    """Class id per row: integer ids, one-hot rows (argmax) or a single 0/1 column."""
    if y.dim() >= 2 and y.shape[-1] > 1:
        return y.argmax(-1).reshape(len(y))
    return (y.reshape(len(y)) > 0.5).long() if y.is_floating_point() else y.reshape(len(y)).long()


@register
class ResampleClasses(Fix):
    """Draw the training rows with probability inversely proportional to their class's frequency, so every
    class fills about the same share of each batch. The gradient no longer pays the model for predicting the
    majority class for every input. The same effect as class weights in the loss, but for any loss."""

    name = "resample-classes"
    title = "resampling the classes to balance"
    categories = ("data.imbalance",)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        if setup.task.kind not in ("multiclass", "binary"):
            raise NotApplicable("resampling needs single-label class targets")
        x, y = stacked(setup.train)
        ids = _class_ids(y)
        counts = torch.bincount(ids)
        present = counts > 0
        if int(present.sum()) < 2:
            raise NotApplicable("the captured training rows hold only one class")
        weights = (1.0 / counts.clamp(min=1).double())[ids]
        g = torch.Generator().manual_seed(setup.seed)
        order = torch.multinomial(weights, len(ids), replacement=True, generator=g)
        return setup.but(self.name, train=rebatched(x[order], y[order], batch_size(setup.train)))

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        if setup.task.kind not in ("multiclass", "binary"):
            raise NotApplicable("resampling needs single-label class targets")
        ids = _class_ids(torch.from_numpy(np.ascontiguousarray(setup.y)))
        counts = torch.bincount(ids)
        if int((counts > 0).sum()) < 2:
            raise NotApplicable("the captured training rows hold only one class")
        weights = (1.0 / counts.clamp(min=1).double())[ids]
        g = torch.Generator().manual_seed(setup.seed)
        order = torch.multinomial(weights, len(ids), replacement=True, generator=g).numpy()
        return setup.but(self.name, x=setup.x[order], y=setup.y[order], class_weight=None)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return render(Change("resample_classes", what="class_weight"), framework_of(ev))
