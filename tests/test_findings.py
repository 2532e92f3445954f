"""The JSON report is a contract (docs/design.md section 5): its keys, and a lossless round trip."""

from __future__ import annotations

import json

import pytest

from deadpan.findings import SCHEMA, Cause, Collapse, Finding, Report, Severity


def sample() -> Report:
    f = Finding(
        code="DP301",
        name="softmax-into-cross-entropy",
        category="loss.mismatch",
        severity=Severity.ERROR,
        message="probabilities into CrossEntropyLoss",
        fix="remove the softmax",
        evidence={"input_min": 0.0, "shape": (32, 10), "nan": float("nan")},
        strength=0.95,
    )
    c = Cause("loss.mismatch", 0.95, "probabilities into CrossEntropyLoss", ("DP301",), "remove the softmax")
    return Report(
        verdict="collapsed",
        summary="Collapsed: ...",
        collapse=Collapse(1, 1.0, 0.0),
        causes=(c,),
        findings=(f,),
        metrics={"steps": 10},
    )


def test_contract_keys() -> None:
    d = json.loads(sample().to_json())
    assert d["schema"] == SCHEMA == "deadpan.report/1"
    assert set(d) >= {"schema", "verdict", "summary", "collapse", "causes", "findings"}
    assert set(d["collapse"]) == {"distinct_predictions", "majority_share", "output_spread_ratio"}
    assert set(d["causes"][0]) >= {"category", "confidence", "summary", "findings", "fix", "verified"}
    assert set(d["findings"][0]) >= {"code", "name", "category", "severity", "message", "evidence", "fix"}
    assert d["findings"][0]["severity"] == "error"
    assert d["findings"][0]["evidence"]["nan"] == "nan"  # JSON has no NaN


def test_round_trip(tmp_path: object) -> None:
    r = sample()
    back = Report.from_json(r.to_json())
    assert back.verdict == r.verdict and back.top_cause == "loss.mismatch"
    assert back.collapse == r.collapse
    assert back.findings[0].code == "DP301"
    assert back.to_dict() == json.loads(r.to_json())


def test_rejects_other_schema() -> None:
    with pytest.raises(ValueError):
        Report.from_json('{"schema": "other/1"}')


def test_renders_plain_text() -> None:
    text = str(sample())
    assert text.startswith("deadpan: COLLAPSED")
    assert "fix: remove the softmax" in text
