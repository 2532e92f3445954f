"""The check protocol, the registry and the runner.

A check is one rule in one file: it declares the evidence it needs (``requires``), measures, then judges with
named thresholds. The runner decides what applies: a check whose evidence is missing is reported as skipped
with the reason, never as a pass, and a check that crashes becomes an internal error, never a crash.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from deadpan.evidence import Evidence
from deadpan.findings import CATEGORIES, Change, Finding, Severity
from deadpan.phrasebook import framework_of, render

REGISTRY: dict[str, type[Check]] = {}


class Check(ABC):
    """Base class of every check. Subclasses set the class attributes and implement :meth:`judge`.

    The docstring of each subclass must have the sections "What it detects", "Why it makes the output
    constant" and "Fix" (a test enforces it); ``deadpan explain CODE`` prints it.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    category: ClassVar[str]
    #: Dotted paths into :class:`Evidence` that must not be None ("data", "probes.learnability").
    requires: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def judge(self, ev: Evidence) -> Finding | None:
        """Return a finding when the rule fires, ``None`` when the evidence is clean."""

    def finding(
        self,
        ev: Evidence,
        message: str,
        change: Change,
        evidence: dict[str, Any],
        strength: float,
        severity: Severity = Severity.ERROR,
    ) -> Finding:
        """Build this check's finding; ``strength`` (0..1) is how strongly the evidence points here. The fix
        text is ``change`` said in the terms of the evidence's framework (:mod:`deadpan.phrasebook`)."""
        return Finding(
            code=self.code,
            name=self.name,
            category=self.category,
            severity=severity,
            message=message,
            fix=render(change, framework_of(ev)),
            evidence=evidence,
            strength=max(0.0, min(1.0, float(strength))),
            change=change,
        )


def register(cls: type[Check]) -> type[Check]:
    """Class decorator adding a check to the registry; codes and names must be unique."""
    if cls.category not in CATEGORIES:
        raise ValueError(f"{cls.__name__}: unknown category {cls.category!r}")
    for other in REGISTRY.values():
        if other.code == cls.code or other.name == cls.name:
            raise ValueError(f"{cls.__name__}: code or name already used by {other.__name__}")
    REGISTRY[cls.code] = cls
    return cls


def missing_evidence(ev: Evidence, path: str) -> bool:
    obj: Any = ev
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return True
    return isinstance(obj, tuple | list) and len(obj) == 0
