"""Every check, one per file, grouped by the part of the pipeline it looks at.

Importing this package imports every module below it, which registers the checks; :func:`all_checks` and
:func:`run_checks` live here, above the check modules, so that :mod:`deadpan.checks.base` imports none.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import traceback
from collections.abc import Iterable, Iterator

from deadpan.checks.base import REGISTRY, Check, missing_evidence, register
from deadpan.evidence import Evidence
from deadpan.findings import Finding, Skipped

__all__ = ["Check", "all_checks", "disabled", "get_check", "register", "run_checks"]

#: Codes of the checks switched off (``--disable``), for this process.
_disabled: frozenset[str] = frozenset()


def _import_all() -> None:
    for sub in ("data", "model", "init", "loss", "optim", "train"):
        pkg = importlib.import_module(f"{__name__}.{sub}")
        for info in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{pkg.__name__}.{info.name}")


_import_all()


def all_checks() -> list[type[Check]]:
    """Every registered check, sorted by code (importing the check packages registers them)."""
    return [REGISTRY[c] for c in sorted(REGISTRY)]


def get_check(code_or_name: str) -> type[Check] | None:
    for cls in all_checks():
        if code_or_name.upper() == cls.code or code_or_name.lower() == cls.name:
            return cls
    return None


@contextlib.contextmanager
def disabled(codes: Iterable[str]) -> Iterator[None]:
    """Switch the checks with these codes or names off while the block runs (``deadpan run --disable``):
    the diagnosis then has to find their faults by other evidence. Raises ValueError on an unknown code."""
    global _disabled
    found = []
    for code in codes:
        cls = get_check(code)
        if cls is None:
            raise ValueError(f"no check {code!r} (deadpan checks lists them)")
        found.append(cls.code)
    before, _disabled = _disabled, _disabled | frozenset(found)
    try:
        yield
    finally:
        _disabled = before


def run_checks(
    ev: Evidence, checks: Iterable[type[Check]] | None = None
) -> tuple[list[Finding], list[Skipped], list[str]]:
    """Run every applicable check; returns (findings, skipped, internal errors)."""
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    errors: list[str] = []
    for cls in checks if checks is not None else all_checks():
        if cls.code in _disabled:
            skipped.append(Skipped(cls.code, cls.name, "disabled (--disable)"))
            continue
        missing = [p for p in cls.requires if missing_evidence(ev, p)]
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
