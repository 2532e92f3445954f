"""Every operator injects a category from the cause vocabulary into at least one task, and changes it."""

import pytest

from deadpan.findings import CATEGORIES
from deadpan.zoo import bench, operators
from deadpan.zoo.tasks import TASKS


def test_every_operator_applies_somewhere_and_changes_the_config() -> None:
    mutants = operators.mutants(list(TASKS.values()))
    used = {m.operator for m in mutants}
    assert used == set(operators.OPERATORS)
    for m in mutants:
        assert m.category in CATEGORIES
        assert m.config != TASKS[m.task].base, m.id
        assert m.config.framework == TASKS[m.task].framework


def test_mutant_ids_are_unique() -> None:
    ids = [m.id for m in operators.mutants(list(TASKS.values()))]
    assert len(ids) == len(set(ids))


def test_every_injectable_category_is_covered() -> None:
    # Every category in the vocabulary is injected by at least one operator.
    injected = {op.category for op in operators.OPERATORS.values()}
    assert injected == set(CATEGORIES)


def test_loop_bugs_are_torch_only_except_frozen_layers() -> None:
    for m in operators.mutants([t for t in TASKS.values() if t.framework == "keras"]):
        assert m.config.bugs <= {"partial_params"}, m.id


def test_quick_subset_has_every_operator_once_and_is_fixed() -> None:
    a, b = bench.select(quick=True), bench.select(quick=True)
    assert [m.id for m in a.mutants] == [m.id for m in b.mutants]
    assert sorted(m.operator for m in a.mutants) == sorted(operators.OPERATORS)
    assert len({m.task for m in a.mutants}) == len(TASKS)


def test_selection_filters() -> None:
    sel = bench.select(tasks=["digits-mlp"], operator_names=["zero-init"])
    assert [m.id for m in sel.mutants] == ["digits-mlp/zero-init"]
    assert not any(t.holdout for t in bench.select(include_holdout=False).tasks)
    with pytest.raises(KeyError):
        bench.select(operator_names=["no-such-operator"])
