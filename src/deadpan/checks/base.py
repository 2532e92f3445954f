"""The check protocol, the registry and the runner.

A check is one rule in one file: it declares the evidence it needs (``requires``), measures, then judges with
named thresholds. The runner decides what applies: a check whose evidence is missing is reported as skipped
with the reason, never as a pass, and a check that crashes becomes an internal error, never a crash.
"""

from __future__ import annotations

import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar

from deadpan.evidence import Evidence
from deadpan.findings import CATEGORIES, Finding, Severity, Skipped

_REGISTRY: dict[str, type[Check]] = {}


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
        message: str,
        fix: str,
        evidence: dict[str, Any],
        strength: float,
        severity: Severity = Severity.ERROR,
    ) -> Finding:
        """Build this check's finding; ``strength`` (0..1) is how strongly the evidence points here."""
        return Finding(
            code=self.code,
            name=self.name,
            category=self.category,
            severity=severity,
            message=message,
            fix=fix,
            evidence=evidence,
            strength=max(0.0, min(1.0, float(strength))),
        )


def register(cls: type[Check]) -> type[Check]:
    """Class decorator adding a check to the registry; codes and names must be unique."""
    if cls.category not in CATEGORIES:
        raise ValueError(f"{cls.__name__}: unknown category {cls.category!r}")
    for other in _REGISTRY.values():
        if other.code == cls.code or other.name == cls.name:
            raise ValueError(f"{cls.__name__}: code or name already used by {other.__name__}")
    _REGISTRY[cls.code] = cls
    return cls


def all_checks() -> list[type[Check]]:
    """Every registered check, sorted by code (importing the check packages registers them)."""
    import deadpan.checks  # noqa: F401  (imports every check module)

    return [_REGISTRY[c] for c in sorted(_REGISTRY)]


def get_check(code_or_name: str) -> type[Check] | None:
    for cls in all_checks():
        if code_or_name.upper() == cls.code or code_or_name.lower() == cls.name:
            return cls
    return None


def _missing(ev: Evidence, path: str) -> bool:
    obj: Any = ev
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return True
    return isinstance(obj, tuple | list) and len(obj) == 0


def run_checks(
    ev: Evidence, checks: Iterable[type[Check]] | None = None
) -> tuple[list[Finding], list[Skipped], list[str]]:
    """Run every applicable check; returns (findings, skipped, internal errors)."""
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    errors: list[str] = []
    for cls in checks if checks is not None else all_checks():
        missing = [p for p in cls.requires if _missing(ev, p)]
        if missing:
            skipped.append(Skipped(cls.code, cls.name, "needs " + ", ".join(missing)))
            continue
        try:
            found = cls().judge(ev)
        except Exception as exc:  # a crashing check never stops the run
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            errors.append(f"check {cls.code} {cls.name} failed: {last}")
            continue
        if isinstance(found, Finding):
            findings.append(found)
        elif found is not None:  # a broken check's answer must not reach the ranking
            errors.append(
                f"check {cls.code} {cls.name} failed: returned {type(found).__name__}, not a Finding"
            )
    return findings, skipped, errors
