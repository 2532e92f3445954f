"""Every Keras scenario gets its expected top cause on this backend; healthy ones are called healthy.

Each runs through the same path as ``deadpan run`` (an unmodified training function, ``Model.fit`` patched).
The table of results is printed at the end (``-s`` or the terminal summary shows it).
"""

from __future__ import annotations

import os
import time

import pytest

from deadpan.findings import CATEGORIES
from deadpan.scenarios.registry import all_scenarios
from deadpan.script.autolog import run_callable

SCENARIOS = all_scenarios("keras")
#: The scenarios run on the torch backend: every one goes through the same capture (``fit`` on arrays, the
#: same Python on every backend) and the diagnosis does not depend on the backend; TensorFlow's own tensors
#: pass through the TensorFlow-only scripts and the in-process Keras tests. ``DEADPAN_KERAS_ALL=1``: every
#: scenario on every backend (25/25 on both on 2026-12-02).
ALL = os.environ.get("DEADPAN_KERAS_ALL") == "1"
#: ``fit`` owns the loop: a Keras user cannot write the loop bugs (zero_grad missing, detached loss ...).
NOT_APPLICABLE = {"train.loop"}

RESULTS: list[tuple[str, str, str, str, float]] = []


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda s: s.name)
def test_keras_scenario_diagnosis(sc: object, backend: str) -> None:
    if backend == "tensorflow" and not ALL:
        pytest.skip("runs on the torch backend (DEADPAN_KERAS_ALL=1: on TensorFlow too)")
    t0 = time.perf_counter()
    report = run_callable(sc.train).report  # type: ignore[attr-defined]
    expected = sc.expected or "healthy"  # type: ignore[attr-defined]
    got = report.top_cause or report.verdict
    RESULTS.append((sc.name, backend, expected, got, time.perf_counter() - t0))  # type: ignore[attr-defined]
    assert report.internal_errors == (), report.internal_errors
    if sc.healthy:  # type: ignore[attr-defined]
        assert report.verdict == "healthy", str(report)
    else:
        assert report.verdict in ("collapsed", "degraded"), str(report)
        assert report.top_cause == sc.expected, str(report)  # type: ignore[attr-defined]


def test_every_applicable_category_has_a_keras_scenario() -> None:
    expected = {s.expected for s in SCENARIOS if s.expected}
    missing = set(CATEGORIES) - NOT_APPLICABLE - expected
    assert not missing, f"no Keras scenario for {missing}"


def test_seed_twins_exist() -> None:
    twins = {s.expected for s in SCENARIOS if s.description.startswith("seed twin")}
    assert twins == {"data.imbalance", "model.capacity", "train.overfit"}


def teardown_module() -> None:
    if RESULTS:
        print(f"\n{'scenario':35s} {'backend':11s} {'expected':24s} {'got':24s} {'s':>5s}")
        for name, backend, expected, got, secs in RESULTS:
            print(f"{name:35s} {backend:11s} {expected:24s} {got:24s} {secs:5.1f}")
