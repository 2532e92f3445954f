"""``Finding.change`` in the JSON report: written, read back, and absent in older reports."""

from __future__ import annotations

import json

import numpy as np

from deadpan.findings import Change, Collapse, Finding, Report, Severity

from .kit import fired


def _finding(change: Change | None) -> Finding:
    return Finding(
        code="DP402",
        name="weights-barely-move",
        category="optim.lr_too_low",
        severity=Severity.ERROR,
        message="the weights barely move",
        fix="raise the learning rate",
        evidence={"lr": 1e-5},
        strength=0.75,
        change=change,
    )


LR = Change(
    "raise_learning_rate",
    what="learning_rate",
    current=1e-5,
    proposed=3e-3,
    params={"optimizer": "SGD", "basis": "range_test", "factor": 30.0},
)


def test_change_round_trip() -> None:
    assert Change.from_dict(json.loads(json.dumps(LR.to_dict()))) == LR
    finding = _finding(LR)
    d = json.loads(json.dumps(finding.to_dict()))
    assert d["change"]["action"] == "raise_learning_rate" and d["change"]["proposed"] == 3e-3
    assert Finding.from_dict(d) == finding


def test_no_change_is_null() -> None:
    finding = _finding(None)
    assert finding.to_dict()["change"] is None
    assert Finding.from_dict(finding.to_dict()) == finding


def test_a_report_without_changes_still_loads() -> None:
    d = _finding(LR).to_dict()
    del d["change"]  # a report written before changes were recorded
    assert Finding.from_dict(d).change is None


def test_report_json_round_trip() -> None:
    report = Report(
        verdict="collapsed",
        summary="s",
        collapse=Collapse(distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.0),
        findings=(_finding(LR), _finding(None)),
    )
    back = Report.from_json(report.to_json())
    assert back.findings == report.findings
    assert back.to_json() == report.to_json()


def test_values_are_plain_json() -> None:
    """Tuples become lists and numpy scalars Python numbers, so the change equals itself after JSON; small
    learning rates keep their digits (evidence is rounded, a change is not)."""
    change = Change(
        "reshape_to_match",
        current=np.float64(1e-9),
        proposed=(32, 1),
        params={"input_shape": (32, 1), "units": np.int64(3), "ok": np.bool_(True)},
    )
    assert change.current == 1e-9 and change.proposed == [32, 1]
    assert change.params == {"input_shape": [32, 1], "units": 3, "ok": True}
    assert Change.from_dict(json.loads(json.dumps(change.to_dict()))) == change


def test_non_finite_values_are_json_strings() -> None:
    d = Change("lower_learning_rate", current=float("inf"), params={"x": float("nan")}).to_dict()
    assert d["current"] == "inf" and d["params"]["x"] == "nan"
    json.dumps(d, allow_nan=False)


def test_every_checks_change_survives_json() -> None:
    """Strict JSON (NaN and inf as strings, as in the evidence), the same after a second round trip."""
    for case in fired():
        change = case.finding.change
        assert change is not None
        d = json.loads(json.dumps(change.to_dict(), allow_nan=False))
        assert Change.from_dict(d).to_dict() == d
        back = Finding.from_dict(json.loads(json.dumps(case.finding.to_dict())))
        assert back.change is not None and back.change.to_dict() == d and back.fix == case.finding.fix
