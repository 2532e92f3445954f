from dataclasses import replace

from deadpan.checks.model.softmax_wrong_axis import SoftmaxWrongAxis
from deadpan.evidence import Evidence
from deadpan.findings import Severity
from factory import healthy, output_probe, regression_healthy


def with_sums(columns: bool, rows: bool) -> Evidence:
    ev = healthy()
    probe = output_probe(columns_sum_to_one=columns, rows_sum_to_one=rows, score=0.4)
    return replace(ev, probes=replace(ev.probes, train_output=probe))


def test_softmax_over_batch() -> None:
    found = SoftmaxWrongAxis().judge(with_sums(columns=True, rows=False))
    assert found is not None
    assert found.code == "DP212"
    assert found.category == "model.output"
    assert found.severity is Severity.ERROR
    assert found.strength == 0.9
    assert "dim=1" in found.fix
    assert "CrossEntropyLoss" in found.fix


def test_softmax_over_classes_is_silent() -> None:
    assert SoftmaxWrongAxis().judge(with_sums(columns=False, rows=True)) is None
    # a square batch can sum to one both ways: not the wrong axis
    assert SoftmaxWrongAxis().judge(with_sums(columns=True, rows=True)) is None


def test_healthy_is_silent() -> None:
    assert SoftmaxWrongAxis().judge(healthy()) is None
    assert SoftmaxWrongAxis().judge(regression_healthy()) is None
