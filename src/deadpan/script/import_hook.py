"""Waiting for a module to load: ``deadpan run`` patches a framework when the script imports it, so a script
never pays for importing a framework it does not use (Keras, a trainer, torch itself).

:class:`AfterImport` is a meta-path finder that finds nothing itself: when one of its modules is about to
load, it lets the other finders find it and has the found loader call ``then`` as soon as the module has run,
before the script's ``import`` statement returns. The loader stays the module's own (only its
``exec_module`` is wrapped, for that one load), so the module's ``__loader__`` and ``__spec__`` are what
they would be without deadpan.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Collection, Sequence
from types import ModuleType
from typing import Any


class AfterImport(importlib.abc.MetaPathFinder):
    """Calls ``then(name, module)`` right after any of the modules ``names`` has loaded, while installed
    (:meth:`install` puts it first on ``sys.meta_path``, :meth:`remove` takes it off). A failure inside
    ``then`` never reaches the import: the module loads as it would without deadpan."""

    def __init__(self, names: Collection[str], then: Callable[[str, ModuleType], None]) -> None:
        self.names = frozenset(names)
        self.then = then
        #: Names being looked up by the other finders now (their lookup must not come back here).
        self._finding: set[str] = set()

    @property
    def installed(self) -> bool:
        return self in sys.meta_path

    def install(self) -> None:
        if not self.installed:
            sys.meta_path.insert(0, self)

    def remove(self) -> None:
        if self.installed:
            sys.meta_path.remove(self)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names or fullname in self._finding:
            return None
        self._finding.add(fullname)
        try:
            spec = self._others_spec(fullname, path, target)
        finally:
            self._finding.discard(fullname)
        loader = spec.loader if spec is not None else None
        # A loader class (built-in and frozen modules) serves every module: only an instance is wrapped.
        if loader is None or isinstance(loader, type) or not hasattr(loader, "exec_module"):
            return None
        original = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            try:
                original(module)
            finally:
                with contextlib.suppress(AttributeError):
                    del loader.exec_module  # the loader's own method again
            if self.installed:
                with contextlib.suppress(Exception):  # deadpan must never break the user's import
                    self.then(fullname, module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec

    def _others_spec(self, fullname: str, path: Any, target: Any) -> importlib.machinery.ModuleSpec | None:
        """The spec the finders after this one give ``fullname``."""
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: importlib.machinery.ModuleSpec | None = finder.find_spec(fullname, path, target)
            if spec is not None:
                return spec
        return None
