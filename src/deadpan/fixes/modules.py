"""Finding and swapping modules of a model copy, for fixes that change the architecture."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

#: Layers with a weight matrix: where "before" and "after" the output layer are measured from.
WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


@dataclass(frozen=True)
class Slot:
    """A module of a model and where it sits: ``setattr(parent, attr, new)`` replaces it."""

    parent: nn.Module
    attr: str
    module: nn.Module

    def replace(self, new: nn.Module) -> None:
        setattr(self.parent, self.attr, new)


def split_at_last_weight(model: nn.Module) -> tuple[list[Slot], list[Slot]]:
    """The model's submodules in registration order (the forward order of an ``nn.Sequential``), split into
    those before its last weight layer (the hidden part) and those after it (the output head)."""
    named = [(n, m) for n, m in model.named_modules() if n]
    last = max((i for i, (_, m) in enumerate(named) if isinstance(m, WEIGHTED)), default=-1)
    slots = []
    for name, m in named:
        parent_name, _, attr = name.rpartition(".")
        slots.append(Slot(model.get_submodule(parent_name) if parent_name else model, attr, m))
    return slots[: max(last, 0)], slots[last + 1 :]
