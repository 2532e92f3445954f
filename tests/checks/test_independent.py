"""Checks do not import each other: a rule two checks share lives in a shared module, not in one of them.

Every module in a check family folder (``checks/data``, ``checks/model`` ...) may import from
``deadpan.checks`` only the shared modules below; the shared modules themselves import no check. Imports are
read with ``ast``, also those inside functions and relative ones. (The phrasebook's tests call every
``test_`` function here without arguments, so none takes any.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import deadpan.checks

CHECKS = Path(deadpan.checks.__file__).parent
#: What a check may import from ``deadpan.checks``: the base class and the shared measurements.
SHARED = (
    "deadpan.checks.base",
    "deadpan.checks.symptoms",
    "deadpan.checks.curves",
    "deadpan.checks.model._structure",
)
FAMILIES = sorted(p.parent.name for p in CHECKS.glob("*/__init__.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(CHECKS.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    """``name`` (under ``deadpan.checks``) is a module or package on disk, not a name defined in one."""
    rel = Path(*name.split(".")[2:]) if name != "deadpan.checks" else Path()
    return (CHECKS / rel).with_suffix(".py").is_file() or (CHECKS / rel / "__init__.py").is_file()


def imported(source: str, module: str, is_package: bool = False) -> set[str]:
    """The ``deadpan.checks`` modules that ``source`` (the text of ``module``) imports, anywhere in it."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                # ``from deadpan.checks.data import dominant_class`` imports the module, not a name.
                found.add(sub if sub.startswith("deadpan.checks.") and _is_module(sub) else target)
    return {m for m in found if m == "deadpan.checks" or m.startswith("deadpan.checks.")}


def forbidden(source: str, module: str, is_package: bool = False) -> set[str]:
    """The imports of ``deadpan.checks`` modules other than the shared ones (and the module's own package)."""
    own = module if is_package else ""
    return {m for m in imported(source, module, is_package) if m not in SHARED and m != own}


def _family_modules() -> list[Path]:
    return sorted(p for family in FAMILIES for p in (CHECKS / family).rglob("*.py"))


def test_no_check_imports_another_check() -> None:
    bad = {}
    for path in _family_modules():
        found = forbidden(path.read_text(encoding="utf-8"), _module_name(path), path.name == "__init__.py")
        if found:
            bad[str(path.relative_to(CHECKS))] = sorted(found)
    assert not bad, (
        f"checks import other checks: {bad}; move what they share into deadpan.checks.symptoms (or another "
        "shared module) and import it from there"
    )


def test_the_shared_modules_import_no_check() -> None:
    for name in SHARED:
        path = CHECKS / Path(*name.split(".")[2:]).with_suffix(".py")
        assert not forbidden(path.read_text(encoding="utf-8"), name), name


def test_the_rule_sees_the_checks() -> None:
    """The test above would pass vacuously on no modules, or on imports it cannot read."""
    modules = _family_modules()
    assert set(FAMILIES) >= {"data", "init", "loss", "model", "optim", "train"}
    assert len(modules) > 40
    users = [p for p in modules if "deadpan.checks.symptoms" in imported(p.read_text(), _module_name(p))]
    assert len(users) > 20


#: Imports of another check, each caught (inside a function, relative, of the package that imports them all).
CHECK_IMPORTS = (
    "from deadpan.checks.data.dominant_class import EXTREME_IMBALANCE_RATIO",
    "def f():\n    from deadpan.checks.train.loss_still_falling import LossStillFalling",
    "import deadpan.checks.init.symmetric_weights",
    "from deadpan.checks.model import saturated_units",
    "from .dominant_class import extreme_imbalance",
    "from ..model.saturated_units import SATURATING_FAMILIES",
    "from deadpan.checks import all_checks",
)
#: Imports of the shared modules (and of anything outside ``deadpan.checks``), each allowed.
SHARED_IMPORTS = (
    "from deadpan.checks.base import Check, register",
    "from deadpan.checks.symptoms import misbehaving",
    "from deadpan.checks.curves import still_falling",
    "from deadpan.checks.model._structure import weight_layers",
    "from deadpan.checks import symptoms",
    "from ..symptoms import head",
    "import numpy as np\nfrom deadpan.evidence import Evidence",
)


def test_the_rule_catches_a_check_import() -> None:
    for source in CHECK_IMPORTS:
        assert forbidden(source, "deadpan.checks.data.few_distinct_samples"), source


def test_the_rule_allows_the_shared_modules() -> None:
    for source in SHARED_IMPORTS:
        assert not forbidden(source, "deadpan.checks.data.few_distinct_samples"), source
