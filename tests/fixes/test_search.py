"""The intervention search: a broken run that no check explains gets its stage from the trials that restore
it, within its budget; healthy runs and sure diagnoses start no search."""

from __future__ import annotations

import dataclasses

import pytest

from deadpan.diagnosis import rank_causes
from deadpan.findings import Cause, Report
from deadpan.fixes.options import VerifyOptions, proven
from deadpan.fixes.search import MAX_BUDGET, MIN_BUDGET, code_of, needs_search, search, search_budget
from deadpan.scenarios.registry import get
from deadpan.script.autolog import RunResult, run_callable


@pytest.fixture(scope="module")
def lr_too_high() -> RunResult:
    return run_callable(get("lr-too-high").train)


def _without(report: Report, prefix: str) -> Report:
    """The report as if no check of the categories starting with ``prefix`` existed."""
    kept = tuple(f for f in report.findings if not f.category.startswith(prefix))
    return dataclasses.replace(report, findings=kept, causes=tuple(rank_causes(kept)))


def test_the_search_names_a_learning_rate_no_check_named(lr_too_high: RunResult) -> None:
    blind = _without(lr_too_high.report, "optim.")
    assert blind.verdict == "collapsed" and all(not c.category.startswith("optim.") for c in blind.causes)
    assert lr_too_high.evidence is not None
    report = search(blind, lr_too_high.evidence, lr_too_high.inputs, budget=60.0)
    top = report.causes[0]
    assert top.category == "optim.lr_too_high", report.causes
    assert top.verified is not None and top.verified["improved"] is True
    assert top.verified["after"]["score"] > top.verified["before"]["score"] + 0.3
    assert code_of("optim.lr_too_high") in top.findings
    tried = report.metrics["search"]["tried"]
    assert tried and tried[-1]["status"] == "improved"  # it stops at the clear win
    assert "verified: " in report.summary and "learning rate" in report.summary


def test_the_search_keeps_to_its_budget(lr_too_high: RunResult) -> None:
    blind = _without(lr_too_high.report, "optim.")
    assert lr_too_high.evidence is not None
    report = search(blind, lr_too_high.evidence, lr_too_high.inputs, budget=0.001)
    meta = report.metrics["search"]
    assert meta["tried"] == []
    assert any(s["reason"] == "over the budget" for s in meta["not_tried"])
    assert [c.category for c in report.causes] == [c.category for c in blind.causes]


def test_healthy_runs_and_sure_causes_start_no_search(lr_too_high: RunResult) -> None:
    healthy = dataclasses.replace(lr_too_high.report, verdict="healthy", causes=())
    assert not needs_search(healthy)
    assert "search" not in proven(healthy, lr_too_high.evidence, lr_too_high.inputs, _options()).metrics
    sure = dataclasses.replace(healthy, verdict="collapsed", causes=(_cause(0.9),))
    unsure = dataclasses.replace(sure, causes=(_cause(0.4),))
    assert not needs_search(sure) and needs_search(unsure)
    assert needs_search(dataclasses.replace(sure, causes=()))


def test_the_budget_is_the_users_training_time_within_bounds() -> None:
    assert search_budget([0.01] * 5, 100) == MIN_BUDGET
    assert search_budget([1.0] * 5, 1000) == MAX_BUDGET
    assert search_budget([0.1] * 5, 300) == pytest.approx(30.0)
    assert search_budget([], None) == MAX_BUDGET
    # A run of a few slow steps: the control and three interventions of 50 steps at its step time.
    assert search_budget([0.1] * 5, 5, trial_steps=50) == pytest.approx(20.0)
    assert search_budget([0.5] * 5, 5, trial_steps=50) == MAX_BUDGET


def _options() -> VerifyOptions:
    return VerifyOptions(workers=1, progress=False, verify=False, search=True)


def _cause(confidence: float) -> Cause:
    return Cause("data.inputs", confidence, "", (), "")


def test_when_no_intervention_restores_learning_the_stage_left_is_named() -> None:
    # A linear model on concentric circles with the capacity checks off: no change of the optimizer,
    # initialisation, loop, inputs or regularisation helps, and simple models do find signal in the inputs.
    from deadpan.checks import all_checks, disabled

    with disabled([c.code for c in all_checks() if c.category == "model.capacity"]):
        result = run_callable(get("linear-model-circles").train)
    assert result.evidence is not None and result.report.verdict in ("collapsed", "degraded")
    assert not result.report.causes
    report = search(result.report, result.evidence, result.inputs, budget=60.0)
    assert [c.category for c in report.causes] == ["model.capacity"]
    assert report.causes[0].confidence < 0.5  # by elimination: below any check's or trial's evidence
    assert all(t["status"] != "improved" for t in report.metrics["search"]["tried"])


def test_the_range_tests_rate_names_the_direction_it_moved(lr_too_high: RunResult) -> None:
    # Tried for a cause "too high", a range-test rate above the user's names a rate too low, and back.
    from deadpan.fixes.interventions import Intervention, stage_of

    ev = lr_too_high.evidence
    assert ev is not None and ev.probes.lr_range is not None
    iv = Intervention("optim.lr_too_high", "lr-from-range-test")

    def with_rates(suggested: float, user: float) -> object:
        rr = dataclasses.replace(ev.probes.lr_range, suggested_lr=suggested, user_lr=user)
        return dataclasses.replace(ev, probes=dataclasses.replace(ev.probes, lr_range=rr))

    assert stage_of(iv, with_rates(1.0, 1e-6)) == "optim.lr_too_low"
    assert stage_of(iv, with_rates(1e-3, 1.0)) == "optim.lr_too_high"


def test_the_optimizers_usual_rate_is_tried_only_in_its_direction_and_only_far_off(
    lr_too_high: RunResult,
) -> None:
    # A rate a thousand times below Adam's usual 1e-3 gets that rate tried as "too low"; one near it is
    # left to the range test and the tenfold step; the usual rate is an intervention, never a check's fix.
    from deadpan.evidence import OptimizerInfo
    from deadpan.fixes.base import REGISTRY
    from deadpan.fixes.interventions import ordered

    ev = lr_too_high.evidence
    assert ev is not None and ev.training is not None

    def tried(name: str, lr: float) -> list[str]:
        training = dataclasses.replace(ev.training, optimizer=OptimizerInfo(name, lr=lr))
        blind = dataclasses.replace(lr_too_high.report, findings=(), causes=())
        ivs = ordered(blind, dataclasses.replace(ev, training=training))
        return [iv.category for iv in ivs if iv.fix == "optimizer-default-lr"]

    assert tried("Adam", 1e-6) == ["optim.lr_too_low"]
    assert tried("SGD", 5.0) == ["optim.lr_too_high"]
    assert tried("Adam", 3e-3) == []
    assert tried("LBFGS", 1e-6) == []
    fix = REGISTRY["optimizer-default-lr"]
    assert not any(fix.answers(c, tuple(lr_too_high.report.findings)) for c in fix.categories)
