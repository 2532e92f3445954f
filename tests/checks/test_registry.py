"""Every registered check is documented, tested, and every cause category has at least one check."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from deadpan.checks import all_checks, get_check
from deadpan.findings import CATEGORIES

SECTIONS = ("What it detects:", "Why it makes the output constant:", "Fix:")
TESTS = Path(__file__).parent


@pytest.mark.parametrize("cls", all_checks(), ids=lambda c: c.code)
def test_check_has_docstring_sections(cls: type) -> None:
    doc = inspect.getdoc(cls) or ""
    for section in SECTIONS:
        assert section in doc, f"{cls.__name__} docstring lacks {section!r}"


@pytest.mark.parametrize("cls", all_checks(), ids=lambda c: c.code)
def test_check_has_tests(cls: type) -> None:
    module = cls.__module__.rsplit(".", 1)[-1]
    test_file = TESTS / f"test_{module}.py"
    assert test_file.is_file(), f"{cls.code} has no test file {test_file.name}"
    text = test_file.read_text()
    assert cls.__name__ in text, f"{test_file.name} does not exercise {cls.__name__}"


def test_codes_and_names_unique_and_well_formed() -> None:
    checks = all_checks()
    assert len({c.code for c in checks}) == len(checks)
    assert len({c.name for c in checks}) == len(checks)
    for c in checks:
        assert c.code.startswith("DP") and c.code[2:].isdigit()
        assert c.name == c.name.lower() and " " not in c.name
        assert c.category in CATEGORIES


def test_every_category_has_a_check() -> None:
    covered = {c.category for c in all_checks()}
    assert covered == set(CATEGORIES), f"no check for {set(CATEGORIES) - covered}"


def test_get_check_by_code_or_name() -> None:
    assert get_check("DP301") is get_check("softmax-into-cross-entropy") is not None
    assert get_check("dp301") is not None
    assert get_check("nope") is None


def test_disabled_checks_are_skipped_and_say_so() -> None:
    from factory import healthy

    from deadpan.checks import disabled, run_checks

    with disabled(["DP401", "no-learnable-signal"]):
        _, skipped, _ = run_checks(healthy())
    assert {s.code for s in skipped if s.reason == "disabled (--disable)"} == {"DP401", "DP102"}
    _, skipped, _ = run_checks(healthy())
    assert not [s for s in skipped if s.reason == "disabled (--disable)"]
    with pytest.raises(ValueError, match="DP999"), disabled(["DP999"]):
        pass
