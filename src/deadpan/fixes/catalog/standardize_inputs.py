"""Standardize the inputs per feature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.keras_trial import KerasTrialSetup
from deadpan.phrasebook import framework_of, render

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Standardize:
    """``(x - mean) / std`` with the training rows' statistics (a class, so that trials can pickle it)."""

    mean: torch.Tensor
    std: torch.Tensor

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        import torch

        return torch.nan_to_num((x.float() - self.mean) / self.std).to(x.dtype)


@register
class StandardizeInputs(Fix):
    """Rescale every input feature to mean 0 and standard deviation 1 over the training rows (held-out rows
    with the same statistics), and replace NaN/inf by 0. Inputs of the wrong scale saturate or kill the first
    layer's units; standardized ones reach the range a default initialisation expects."""

    name = "standardize-inputs"
    title = "standardizing the inputs"
    categories = ("data.inputs",)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        import torch

        from deadpan.fixes.batches import map_inputs, stacked

        x, _ = stacked(setup.train)
        if not x.is_floating_point():
            raise NotApplicable("the inputs are integer ids (an embedding lookup), not values to rescale")
        xf = torch.nan_to_num(x.float(), nan=0.0, posinf=0.0, neginf=0.0)
        mean = xf.mean(0, keepdim=True)
        std = xf.std(0, keepdim=True)
        std = torch.where(std > 1e-8, std, torch.ones_like(std))
        scale = Standardize(mean, std)
        return setup.but(
            self.name, train=map_inputs(setup.train, scale), heldout=map_inputs(setup.heldout, scale)
        )

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        x = setup.x
        if x.dtype.kind != "f":
            raise NotApplicable("the inputs are integer ids (an embedding lookup), not values to rescale")
        xf = np.nan_to_num(x.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        mean, std = xf.mean(0), xf.std(0)
        std = np.where(std > 1e-8, std, 1.0)

        def scale(a: np.ndarray) -> np.ndarray:
            return np.nan_to_num((a.astype(np.float64) - mean) / std).astype(x.dtype)

        return setup.but(self.name, x=scale(setup.x), x_heldout=scale(setup.x_heldout))

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return render(Change("standardize_inputs", what="inputs", proposed="standardized"), framework_of(ev))
