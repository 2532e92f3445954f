"""Fix trials through the real run path: verification, re-ranking, the user's state, and bad input."""

from __future__ import annotations

import copy
import threading

import pytest
import torch
from torch import nn

import deadpan.fixes.verify as verify_mod
from deadpan.evidence import Evidence
from deadpan.findings import CATEGORIES, Finding
from deadpan.fixes.base import Fix, TrialSetup
from deadpan.fixes.options import VerifyOptions
from deadpan.scenarios.registry import get
from deadpan.script.autolog import run_callable

from .kit import blobs

IN_PROCESS = VerifyOptions(workers=1, progress=False)


def test_the_verified_fix_is_reported_and_named_first() -> None:
    report = run_callable(get("zero-grad-missing").train, verify=IN_PROCESS).report
    assert report.verdict == "collapsed" and report.top_cause == "train.loop"
    v = report.causes[0].verified
    assert v is not None and v["improved"] is True and v["status"] == "improved"
    assert {"fix", "budget", "before", "after", "improved"} <= set(v)
    assert v["fix"] == "correct-loop"
    assert v["before"]["distinct_predictions"] == 1 and v["after"]["distinct_predictions"] > 1
    assert v["after"]["score"] - v["before"]["score"] > 0.5
    assert "verified: a corrected training loop" in report.summary
    assert report.metrics["verification"]["control"]["loop_bugs_reproduced"] == ["zero_grad"]
    assert "verified: a corrected training loop: distinct predictions 1 ->" in str(report)


class Useless(Fix):
    """Changes nothing: a trial of it must never be reported as an improvement."""

    name = "useless"
    title = "doing nothing"
    categories = tuple(CATEGORIES)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        return setup.but(self.name)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return "nothing"


def test_a_useless_fix_is_never_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_mod, "all_fixes", lambda: [Useless()])
    plain = run_callable(get("imbalanced-weak-signal").train).report
    report = run_callable(get("imbalanced-weak-signal").train, verify=IN_PROCESS).report
    tried = [c.verified for c in report.causes if c.verified is not None]
    assert tried, "every cause should have had the useless fix tried"
    for v in tried:
        assert v["status"] == "no_improvement" and v["improved"] is False
        before, after = dict(v["before"], seconds=0), dict(v["after"], seconds=0)
        assert before == after  # same seed, same setup: the same numbers
    assert [c.category for c in report.causes] == [c.category for c in plain.causes]
    assert "verified" not in report.summary


def test_the_users_model_optimizer_data_and_rng_are_untouched() -> None:
    x, y = blobs(400)
    user: dict[str, object] = {}
    after: dict[str, object] = {}

    def train() -> None:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
        opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)  # far too low, and a double softmax
        for _ in range(3):
            for i in range(0, len(x), 32):
                opt.zero_grad()
                loss = nn.functional.cross_entropy(torch.softmax(model(x[i : i + 32]), 1), y[i : i + 32])
                loss.backward()
                opt.step()
        user.update(model=model, opt=opt)
        after["params"] = copy.deepcopy(model.state_dict())
        after["opt"] = copy.deepcopy(opt.state_dict())
        after["rng"] = torch.get_rng_state()
        after["mode"] = model.training

    x0, y0 = x.clone(), y.clone()
    report = run_callable(train, verify=IN_PROCESS).report
    assert report.verdict in ("collapsed", "degraded"), str(report)
    assert report.metrics["verification"].get("control"), report.metrics["verification"]
    assert any(c.verified for c in report.causes)
    model, opt = user["model"], user["opt"]
    assert isinstance(model, nn.Module) and isinstance(opt, torch.optim.Optimizer)
    for k, v in model.state_dict().items():
        assert torch.equal(v, after["params"][k]), k  # type: ignore[index]
    state, saved = opt.state_dict(), after["opt"]
    assert state["param_groups"] == saved["param_groups"]  # type: ignore[index]
    for k, s in state["state"].items():
        assert torch.equal(s["momentum_buffer"], saved["state"][k]["momentum_buffer"])  # type: ignore[index]
    assert torch.equal(torch.get_rng_state(), after["rng"])  # type: ignore[arg-type]
    assert model.training == after["mode"]
    assert torch.equal(x, x0) and torch.equal(y, y0)


class Raises(Fix):
    name = "raises"
    title = "a fix whose trial raises"
    categories = tuple(CATEGORIES)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        return setup.but(self.name, loss_fn=_boom)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return "-"


def _boom(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    raise RuntimeError("boom in the trial")


class Hangs(Fix):
    name = "hangs"
    title = "a fix whose trial never ends"
    categories = tuple(CATEGORIES)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        return setup.but(self.name, steps=10**8)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return "-"


class CannotApply(Fix):
    name = "cannot-apply"
    title = "a fix that does not apply"
    categories = tuple(CATEGORIES)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        from deadpan.fixes.base import NotApplicable

        raise NotApplicable("a custom layer deadpan cannot rebuild")

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return "-"


def test_failing_hanging_and_inapplicable_fixes_are_recorded_and_the_rest_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(verify_mod, "all_fixes", lambda: [Raises(), Hangs(), CannotApply(), *_real()])
    # The real trials take well under a second each; the hanging one is stopped at the limit (once per cause).
    options = VerifyOptions(workers=1, progress=False, time_limit=2.0)
    report = run_callable(get("zero-grad-missing").train, verify=options).report
    top = report.causes[0]
    assert top.category == "train.loop" and top.verified is not None, report.metrics["verification"]
    assert top.verified["improved"], report.metrics["verification"]
    trials = {t["fix"]: t for t in top.verified["trials"]}
    assert trials["raises"]["status"] == "failed" and "boom in the trial" in trials["raises"]["reason"]
    assert trials["hangs"]["status"] == "failed" and "limit" in trials["hangs"]["reason"]
    assert trials["cannot-apply"]["status"] == "not_verifiable"
    assert "not verifiable: a fix that does not apply: a custom layer" in str(report)


def _real() -> list[Fix]:
    from deadpan.fixes.catalog import all_fixes

    return all_fixes()


class Locked(nn.Module):
    """A model holding a lock: it cannot be deep-copied."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 3))
        self.lock = threading.Lock()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def test_a_model_that_cannot_be_copied_is_not_verifiable_and_nothing_crashes() -> None:
    x, y = blobs(300)

    def train() -> None:
        model = Locked()
        opt = torch.optim.SGD(model.parameters(), lr=1e-6)  # far too low: a cause to verify
        for _ in range(2):
            for i in range(0, len(x), 32):
                opt.zero_grad()
                nn.functional.cross_entropy(model(x[i : i + 32]), y[i : i + 32]).backward()
                opt.step()

    report = run_callable(train, verify=IN_PROCESS).report
    assert report.verdict in ("collapsed", "degraded"), str(report)
    reason = report.metrics["verification"]["not_verifiable"]
    assert "cannot be deep-copied" in reason
    assert "fix trials: not verifiable: deadpan holds no copy" in str(report)


def test_diagnose_verify_continues_from_the_model_as_given() -> None:
    import deadpan

    x, y = blobs(600)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    for p in model.parameters():
        nn.init.zeros_(p)  # symmetric: every hidden unit stays identical
    before = copy.deepcopy(model.state_dict())
    report = deadpan.diagnose(model, x, y, verify=VerifyOptions(workers=1, progress=False))
    assert report.verdict in ("collapsed", "degraded"), str(report)
    meta = report.metrics["verification"]
    assert "as given to diagnose()" in meta["control"]["starts_from"]
    assert any(c.verified and c.verified["improved"] for c in report.causes), str(report)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_a_bug_in_the_trials_keeps_the_diagnosis(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("bug in deadpan's trials")

    monkeypatch.setattr(verify_mod, "verify", broken)
    report = run_callable(get("zero-grad-missing").train, verify=IN_PROCESS).report
    assert report.verdict == "collapsed" and report.top_cause == "train.loop"
    assert "bug in deadpan's trials" in report.metrics["verification"]["not_verifiable"]
    assert any("ZeroDivisionError" in e for e in report.internal_errors)


def test_the_verified_fixes_of_two_causes_are_also_tried_together() -> None:
    # A double softmax under slow SGD: removing the softmax and raising the rate each help, together far more.
    report = run_callable(get("softmax-into-cross-entropy").train, verify=IN_PROCESS).report
    combined = report.metrics["verification"]["combined"]
    assert "logits-into-loss" in combined["fixes"] and len(combined["fixes"]) >= 2
    assert combined["improved"] is True
    tops = [c.verified["after"]["score"] for c in report.causes if c.verified and c.verified["improved"]]
    assert combined["after"]["score"] > max(tops)
    assert "all verified fixes together, verified:" in str(report)
