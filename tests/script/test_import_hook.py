"""The import hook ``deadpan run`` waits for frameworks with: it acts right after the module has run, leaves
the module's own loader in place, and does nothing once removed or when its callback fails."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from deadpan.script.import_hook import AfterImport


@pytest.fixture
def module_dir(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "deadpan_fake_framework.py").write_text("VALUE = 41\n")
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("deadpan_fake_framework", None)


def test_then_runs_once_the_module_has_run(module_dir: Path) -> None:
    seen: list[tuple[str, int]] = []

    def then(name: str, module: ModuleType) -> None:
        seen.append((name, module.VALUE))
        module.VALUE += 1

    hook = AfterImport(("deadpan_fake_framework",), then)
    hook.install()
    try:
        module = importlib.import_module("deadpan_fake_framework")
    finally:
        hook.remove()
    assert seen == [("deadpan_fake_framework", 41)]
    assert module.VALUE == 42  # patched before the import statement returned
    loader = module.__spec__.loader
    assert type(loader).__name__ == "SourceFileLoader" and "exec_module" not in vars(loader)


def test_a_removed_hook_and_a_failing_callback_leave_the_import_alone(module_dir: Path) -> None:
    calls: list[str] = []
    hook = AfterImport(("deadpan_fake_framework",), lambda name, module: calls.append(name))
    hook.install()
    hook.remove()
    importlib.import_module("deadpan_fake_framework")
    assert calls == [] and not hook.installed
    sys.modules.pop("deadpan_fake_framework")

    def fails(name: str, module: ModuleType) -> None:
        raise RuntimeError("a bug in deadpan")

    failing = AfterImport(("deadpan_fake_framework",), fails)
    failing.install()
    try:
        assert importlib.import_module("deadpan_fake_framework").VALUE == 41
    finally:
        failing.remove()
