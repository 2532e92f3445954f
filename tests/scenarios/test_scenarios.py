"""Every built-in scenario gets its expected top cause; every healthy scenario is called healthy.

Each scenario runs through the same capture path as ``deadpan run`` (an unmodified training function).
"""

from __future__ import annotations

import pytest

from deadpan.findings import CATEGORIES
from deadpan.scenarios.registry import all_scenarios
from deadpan.script.autolog import run_callable

SCENARIOS = all_scenarios("torch")


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda s: s.name)
def test_scenario_diagnosis(sc: object) -> None:
    report = run_callable(sc.train).report  # type: ignore[attr-defined]
    assert report.internal_errors == (), report.internal_errors
    if sc.healthy:  # type: ignore[attr-defined]
        assert report.verdict == "healthy", str(report)
    else:
        assert report.verdict in ("collapsed", "degraded"), str(report)
        assert report.top_cause == sc.expected, str(report)  # type: ignore[attr-defined]


def test_every_category_has_a_scenario() -> None:
    expected = {s.expected for s in SCENARIOS if s.expected}
    assert expected == set(CATEGORIES), f"no scenario for {set(CATEGORIES) - expected}"


def test_healthy_scenarios_exist_for_classification_and_regression() -> None:
    names = {s.name for s in SCENARIOS if s.healthy}
    assert {"healthy-digits", "healthy-regression"} <= names


TWINNED = [s for s in SCENARIOS if s.twin is not None]


@pytest.mark.parametrize("sc", TWINNED, ids=lambda s: s.name)
def test_a_broken_scenarios_twin_is_healthy(sc: object) -> None:
    """The twin (the same training with the fault removed) is what ``deadpan bench verify`` holds a fix
    against: it must be a healthy training, so that the scenario has one fault and no other."""
    report = run_callable(sc.twin).report  # type: ignore[attr-defined]
    assert report.verdict == "healthy", str(report)


def test_most_broken_scenarios_have_a_twin() -> None:
    broken = [s for s in SCENARIOS if not s.healthy]
    assert len(TWINNED) >= 0.75 * len(broken)
    assert all(not s.healthy for s in TWINNED)
