"""Re-encode targets the loss cannot take, when the evidence shows their encoding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.keras_trial import KerasTrialSetup
from deadpan.phrasebook import framework_of, render
from deadpan.probes.arrays import is_tensor

#: Losses that take class ids, and those that take targets in [0, 1] (as DP104 names them).
INDEX_LOSSES = ("cross_entropy", "nll_loss", "cross_entropy_probs")
BINARY_LOSSES = ("binary_cross_entropy", "binary_cross_entropy_with_logits")


@dataclass(frozen=True)
class Affine:
    """``(y - shift) / scale``, keeping the targets' dtype (a class, so that trials can pickle it)."""

    shift: float
    scale: float

    def __call__(self, y: Any) -> Any:
        if is_tensor(y):
            t = (y.double() - self.shift) / self.scale
            return t.to(y.dtype) if y.is_floating_point() else t.round().to(y.dtype)
        a = (np.asarray(y, dtype=np.float64) - self.shift) / self.scale
        return a.round().astype(y.dtype) if y.dtype.kind in "iu" else a.astype(y.dtype)


def _mapping(finding: Finding) -> tuple[Affine, str]:
    """The re-encoding DP104's evidence points to, and its description; NotApplicable when it is unclear."""
    ev = finding.evidence
    loss, tmin, tmax = ev.get("loss"), float(ev["target_min"]), float(ev["target_max"])
    if loss in INDEX_LOSSES:
        if tmin >= 1 and tmax == float(ev.get("n_output_units", -1)):
            return Affine(1.0, 1.0), "1-based class ids shifted to 0-based"
        raise NotApplicable(
            "the class ids are out of range but not simply 1-based: the right mapping is unclear"
        )
    if loss in BINARY_LOSSES and tmax > tmin:
        return Affine(tmin, tmax - tmin), f"targets {tmin:g}/{tmax:g} mapped to 0/1"
    raise NotApplicable("the targets' right encoding is not clear from the evidence")


@register
class RepairLabels(Fix):
    """Map targets the loss cannot take to the ones it can: 1-based class ids to 0-based ones, binary targets
    such as -1/+1 or 0/255 to 0/1 (the training and the held-out targets alike). Out-of-range class ids index
    past the output; a binary target outside [0, 1] makes the loss unbounded below, so every output runs to
    the same extreme."""

    name = "repair-labels"
    title = "re-encoding the targets"
    categories = ("data.labels",)
    finding_names = ("targets-out-of-range",)

    @staticmethod
    def _finding(findings: tuple[Finding, ...]) -> Finding:
        return next(f for f in findings if f.name == "targets-out-of-range")

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        from deadpan.fixes.batches import map_targets

        fn, what = _mapping(self._finding(findings))
        return setup.but(
            f"{self.name} ({what})",
            train=map_targets(setup.train, fn),
            heldout=map_targets(setup.heldout, fn),
        )

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        fn, what = _mapping(self._finding(findings))
        return setup.but(f"{self.name} ({what})", y=fn(setup.y), y_heldout=fn(setup.y_heldout))

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        fixes = [f.fix for f in findings if f.name == "targets-out-of-range" and f.fix]
        if fixes:
            return fixes[0]
        return render(Change("repair_labels", what="targets"), framework_of(ev))
