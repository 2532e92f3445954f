"""Every check, one per file, grouped by the part of the pipeline it looks at.

Importing this package imports every module below it, which registers the checks.
"""

from __future__ import annotations

import importlib
import pkgutil

from deadpan.checks.base import Check, all_checks, get_check, register, run_checks

__all__ = ["Check", "all_checks", "get_check", "register", "run_checks"]


def _import_all() -> None:
    for sub in ("data", "model", "init", "loss", "optim", "train"):
        pkg = importlib.import_module(f"{__name__}.{sub}")
        for info in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{pkg.__name__}.{info.name}")


_import_all()
