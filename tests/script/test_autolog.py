"""``deadpan run``'s result when the script trained nothing deadpan saw: a run that never imported torch gets
the report a PyTorch run that created no model gets, made without torch."""

from __future__ import annotations

from deadpan.script.autolog import _plain_result
from deadpan.script.torch_run import TorchRun


def _comparable(report_json: str) -> str:
    import json

    d = json.loads(report_json)
    d["metrics"].pop("diagnosis_seconds", None)
    return json.dumps(d, sort_keys=True)


def test_no_torch_side_reports_as_a_run_that_found_no_model() -> None:
    without = _plain_result(None, ["a note"], 0, "finished", None)
    run = TorchRun(None, None, [], lambda: False)  # started never: it saw nothing
    seen_nothing = _plain_result(run, ["a note"], 0, "finished", None)
    assert without.report.verdict == "inconclusive"
    assert _comparable(without.report.to_json()) == _comparable(seen_nothing.report.to_json())
    assert without.inputs is None and without.evidence is not None
