"""Tests mirror the source tree (docs/design.md section 3): a test of ``deadpan/X.py`` is ``tests/test_X.py``,
a test of the package ``deadpan/P/`` lives in ``tests/P/``; the few suites that test the whole program say
what they are for here."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
SOURCE = TESTS.parent / "src" / "deadpan"

#: Folders of tests that are not one package's: what each covers.
WHOLE_PROGRAM = {
    "house": "the house rules: floors, sizes, this tree",
    "trust": "what users trust deadpan with: bad input, faults, memory, security, distributed runs",
    "frameworks": "deadpan.lightning and deadpan.hf inside real trainers",
    "keras_backend": "deadpan.keras and deadpan.api.keras, run once per Keras backend",
}


def _misplaced(test: Path) -> str | None:
    rel = test.relative_to(TESTS)
    if len(rel.parts) == 1:
        module = rel.stem.removeprefix("test_")
        return None if (SOURCE / f"{module}.py").exists() else f"{rel}: no deadpan/{module}.py"
    top = rel.parts[0]
    if top in WHOLE_PROGRAM or (SOURCE / top / "__init__.py").exists():
        return None
    return f"{rel}: no package deadpan/{top}"


def test_every_test_file_sits_where_its_source_is() -> None:
    tests = sorted(TESTS.rglob("test_*.py"))
    assert len(tests) > 50  # the walk found the suite
    suites = [t for t in tests if "scripts" not in t.relative_to(TESTS).parts]  # scripts are data
    misplaced = [m for t in suites if (m := _misplaced(t)) is not None]
    assert not misplaced, misplaced


def test_a_stray_test_file_is_found() -> None:
    assert _misplaced(TESTS / "test_nothing_here.py") is not None
    assert _misplaced(TESTS / "nowhere" / "test_x.py") is not None
    assert _misplaced(TESTS / "checks" / "test_x.py") is None
