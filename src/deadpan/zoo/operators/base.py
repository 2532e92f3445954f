"""The operator registry and what an operator makes: a :class:`Mutant` of a healthy base task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from deadpan.zoo.config import Config
from deadpan.zoo.tasks import Task


@dataclass(frozen=True)
class Operator:
    name: str
    category: str
    description: str
    #: (task, parameter) -> mutated config, or None where the operator does not apply to the task.
    mutate: Callable[[Task, float], Config | None]
    params: tuple[float, ...] = (0.0,)


@dataclass(frozen=True)
class Mutant:
    task: str
    operator: str
    param: float
    category: str
    config: Config

    @property
    def id(self) -> str:
        p = "" if self.param == 0.0 else f"={self.param:g}"
        return f"{self.task}/{self.operator}{p}"


OPERATORS: dict[str, Operator] = {}


def operator(
    name: str, category: str, description: str, params: tuple[float, ...] = (0.0,)
) -> Callable[[Callable[[Task, float], Config | None]], Callable[[Task, float], Config | None]]:
    def add(fn: Callable[[Task, float], Config | None]) -> Callable[[Task, float], Config | None]:
        if name in OPERATORS:
            raise ValueError(f"duplicate operator {name}")
        OPERATORS[name] = Operator(name, category, description, fn, params)
        return fn

    return add


def _data(task: Task, *ops: tuple[str, float]) -> Config:
    return replace(task.base, data=(*task.base.data, *ops))


def _dense(task: Task) -> bool:
    """Real-valued feature inputs (not token ids)."""
    return task.family != "gru"


def _classification(task: Task) -> bool:
    return task.kind in ("multiclass", "binary")


def _torch(task: Task) -> bool:
    return task.framework == "torch"


def mutants(tasks: list[Task]) -> list[Mutant]:
    """Every (task, operator, parameter) that applies."""
    out = []
    for task in tasks:
        for op in OPERATORS.values():
            for p in op.params:
                cfg = op.mutate(task, p)
                if cfg is not None:
                    out.append(Mutant(task.name, op.name, p, op.category, cfg))
    return out
