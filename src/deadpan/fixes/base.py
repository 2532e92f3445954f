"""What a fix trial trains, and the fix protocol.

A :class:`TrialSetup` holds everything one short training needs: a copy of the model as it was before the
user trained it, the captured batches, the loss, the optimizer's class and hyper-parameters, and the loop as
the user ran it (a missing ``zero_grad`` stays missing in the control). A :class:`Fix` is a transform from one
setup to another; the trial runner trains the untouched control and every fixed copy for the same budget and
seed and compares them on the same held-out batches.

Every part of a setup can be pickled (with cloudpickle where the user's classes live in their script), so the
same trial runs in this process, in a local worker process or as a Ray task. This module imports torch only to
build a PyTorch trial's optimizer: a Keras run's fix trials (:mod:`deadpan.fixes.keras_trial`) never load it.
"""

from __future__ import annotations

import copy
import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from deadpan.evidence import Evidence, Task
from deadpan.findings import CATEGORIES, Finding

if TYPE_CHECKING:
    import torch
    from torch import nn

    from deadpan.fixes.keras_trial import KerasTrialSetup

Batch = tuple[Any, Any, Any]  # (args, kwargs, target)
LossFn: TypeAlias = "Callable[[torch.Tensor, torch.Tensor], torch.Tensor]"


@dataclass(frozen=True)
class OptimizerSpec:
    """The user's optimizer as a recipe: class, hyper-parameters, learning rate, the parameters it held."""

    cls: type[torch.optim.Optimizer] | None
    hyper: dict[str, Any]
    lr: float
    #: Names of trainable parameters the user's optimizer did not hold: they stay fixed, as in the user's run.
    left_out: tuple[str, ...] = ()

    def build(self, model: nn.Module) -> torch.optim.Optimizer:
        import torch
        from torch import nn

        params = [p for n, p in model.named_parameters() if p.requires_grad and n not in self.left_out]
        if not params:  # an optimizer needs something to hold; nothing will change
            params = [nn.Parameter(torch.zeros(1))]
        if self.cls is not None:
            try:
                return self.cls(params, lr=self.lr, **self.hyper)  # type: ignore[call-arg]
            except Exception:
                pass
        return torch.optim.SGD(params, lr=self.lr, momentum=0.9)


@dataclass(frozen=True)
class LoopSpec:
    """How the training loop behaved: each flag False reproduces a loop bug the capture observed."""

    zero_grad: bool = True
    backward: bool = True
    step: bool = True
    #: False: the first batch again at every step.
    fresh_batches: bool = True
    #: False: the model trained in eval mode (dropout off, batch-norm running statistics).
    train_mode: bool = True

    @property
    def correct(self) -> bool:
        return self.zero_grad and self.backward and self.step and self.fresh_batches and self.train_mode


@dataclass(frozen=True)
class TrialSetup:
    """One short training: the control or a fixed copy of it."""

    model: nn.Module
    train: tuple[Batch, ...]
    heldout: tuple[Batch, ...]
    loss_fn: LossFn
    adapt: Callable[[Any], torch.Tensor]
    optimizer: OptimizerSpec
    loop: LoopSpec
    steps: int
    task: Task
    seed: int = 0
    #: Where the model's weights come from, for the report.
    origin: str = "the model before training"
    #: Where the training and held-out batches come from, for the report.
    data: str = "the captured batches"
    #: What this setup changed relative to the control, for the report ("" for the control).
    changes: tuple[str, ...] = field(default=())

    def but(self, change: str, **kw: Any) -> TrialSetup:
        """A copy with the fields in ``kw`` replaced and ``change`` noted."""
        return dataclasses.replace(self, changes=(*self.changes, change), **kw)

    def model_copy(self) -> nn.Module:
        """A deep copy of the model, for a fix that changes it (the control's model is shared)."""
        return copy.deepcopy(self.model)


#: A trial setup of either framework.
Setup: TypeAlias = "TrialSetup | KerasTrialSetup"


class NotApplicable(Exception):
    """The fix cannot be applied to this run; the message says why, for "not verifiable: <reason>"."""


class Fix(ABC):
    """A transform of a trial setup that removes one cause. One fix per file; subclasses set the attributes.

    The docstring of each subclass says what it changes and why that removes the cause.
    """

    #: Stable name, used in the JSON report ("standardize-inputs").
    name: ClassVar[str]
    #: What the terminal says ("standardizing the inputs").
    title: ClassVar[str]
    #: Cause categories the fix answers.
    categories: ClassVar[tuple[str, ...]]
    #: Names of the findings the fix answers ("softmax-into-cross-entropy"); empty: any of its categories.
    finding_names: ClassVar[tuple[str, ...]] = ()

    def answers(self, category: str, findings: tuple[Finding, ...]) -> bool:
        """Does the fix address this cause (its category, and one of its findings when ``finding_names`` is
        set)?"""
        if category not in self.categories:
            return False
        return not self.finding_names or any(f.name in self.finding_names for f in findings)

    @abstractmethod
    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        """The fixed setup for a cause with ``findings``; raise :class:`NotApplicable` with the reason
        when the fix cannot apply."""

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        """The fixed Keras setup (:mod:`deadpan.fixes.keras_trial`); by default the fix has no Keras form."""
        raise NotApplicable("this fix has no Keras trial yet")

    def apply_to(self, setup: Setup, ev: Evidence, findings: tuple[Finding, ...]) -> Setup:
        """:meth:`apply` or :meth:`apply_keras`, by the setup's framework."""
        if isinstance(setup, TrialSetup):
            return self.apply(setup, ev, findings)
        return self.apply_keras(setup, ev, findings)

    @abstractmethod
    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        """What the user changes in their own code (in their framework)."""


REGISTRY: dict[str, Fix] = {}


def register(cls: type[Fix]) -> type[Fix]:
    """Class decorator adding a fix to the registry; names must be unique and categories known."""
    unknown = [c for c in cls.categories if c not in CATEGORIES]
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown categories {unknown}")
    if cls.name in REGISTRY:
        raise ValueError(f"{cls.__name__}: fix name {cls.name!r} already used")
    REGISTRY[cls.name] = cls()
    return cls
