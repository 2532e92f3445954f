"""Every change a check or fix can make has a phrase in every framework's book, and every message fragment a
check asks for has a word there."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from factory import healthy

from deadpan.evidence import Evidence
from deadpan.findings import Change
from deadpan.phrasebook import FRAMEWORKS, framework_of, has_phrase, has_word, hf, lightning, render, say
from deadpan.phrasebook import keras as keras_book
from deadpan.phrasebook import torch as torch_book

from .kit import as_framework

SRC = Path(__file__).resolve().parents[2] / "src" / "deadpan"
#: Where changes are stated and message fragments asked for.
USERS = (SRC / "checks", SRC / "fixes")


def _calls(name: str) -> list[tuple[str, ast.Call]]:
    """Every call of ``name(...)`` under the checks and the fixes, with where it is."""
    found = []
    for root in USERS:
        for path in sorted(root.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                    found.append((f"{path.relative_to(SRC)}:{node.lineno}", node))
    return found


def _first_literal(where: str, call: ast.Call, keyword: str) -> str:
    arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == keyword), None)
    assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), (
        f"{where}: write the {keyword} as a string literal, so that this test sees it"
    )
    return arg.value


def actions() -> set[str]:
    return {_first_literal(where, call, "action") for where, call in _calls("Change")}


def words() -> set[str]:
    return {_first_literal(where, call, "key") for where, call in _calls("say")}


def test_the_scan_sees_the_changes() -> None:
    found = actions()
    assert len(found) >= 60, sorted(found)
    assert {"set_learning_rate", "standard_init", "remove_output_activation", "weight_classes"} <= found


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_action_has_a_phrase(framework: str) -> None:
    missing = sorted(a for a in actions() if not has_phrase(a, framework))
    assert not missing, f"the {framework} phrasebook has no phrase for {missing}"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_message_fragment_has_a_word(framework: str) -> None:
    found = words()
    assert {"loss", "batch_axis"} <= found
    missing = sorted(w for w in found if not has_word(w, framework))
    assert not missing, f"the {framework} phrasebook has no word for {missing}"


def test_the_books_hold_no_phrase_nothing_uses() -> None:
    used = actions()
    for book in (torch_book, keras_book, lightning, hf):
        assert not set(book.PHRASES) - used, book.__name__


def test_an_unknown_action_or_framework_fails_loudly() -> None:
    with pytest.raises(KeyError, match="no phrase"):
        render(Change("no_such_action"), "torch")
    with pytest.raises(ValueError, match="unknown framework"):
        render(Change("standard_init"), "jax")
    with pytest.raises(KeyError, match="no word"):
        say("no_such_word", "keras")


@pytest.mark.parametrize("framework", ["lightning", "hf"])
def test_trainer_books_fall_back_on_the_torch_book(framework: str) -> None:
    change = Change("break_symmetry", where="0")
    assert render(change, framework) == render(change, "torch")
    assert say("batch_axis", framework) == say("batch_axis", "torch") == "dim=0"


def test_framework_of() -> None:
    ev = healthy()
    assert framework_of(ev) == "torch"
    assert framework_of(as_framework(ev, "keras")) == "keras"
    for source in ("lightning", "hf"):
        assert framework_of(as_framework(ev, source)) == source
    assert framework_of(Evidence(source="diagnose")) == "torch"  # no model: PyTorch's words


def test_checks_and_fixes_leave_the_wording_to_the_books() -> None:
    """No check or fix branches on the framework for its words (the books do)."""
    found = [
        f"{path.relative_to(SRC)}:{n}"
        for root in USERS
        for path in sorted(root.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "is_keras(" in line
    ]
    assert not found, found
