from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.model.softmax_wrong_axis import SoftmaxWrongAxis
from deadpan.evidence import Evidence
from deadpan.findings import Severity


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


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    ev = keras(with_sums(columns=True, rows=False))
    assert ev.loss is not None
    loss = replace(
        ev.loss, function="cross_entropy_probs", name="sparse_categorical_crossentropy", from_logits=False
    )
    found = SoftmaxWrongAxis().judge(replace(ev, loss=loss))
    assert found is not None
    assert found.fix.startswith("use `layers.Softmax(axis=-1)`")
    assert "axis 0" in found.message
    assert_no_torch(found.message + found.fix)


def test_keras_from_logits_says_drop_the_softmax() -> None:
    ev = keras(with_sums(columns=True, rows=False))
    assert ev.loss is not None
    ev = replace(ev, loss=replace(ev.loss, name="sparse_categorical_crossentropy", from_logits=True))
    found = SoftmaxWrongAxis().judge(ev)
    assert found is not None
    assert found.fix.startswith("drop the softmax: `sparse_categorical_crossentropy` with `from_logits=True`")


def log_softmax_into_nll(rows: bool | None, columns: bool | None) -> Evidence:
    """`nn.LogSoftmax(dim=?)` then `nn.NLLLoss`: the probe's outputs are logs, so they sum to nothing."""
    ev = with_sums(columns=False, rows=False)
    assert ev.loss is not None
    loss = replace(
        ev.loss,
        function="nll_loss",
        input_min=-9.0,
        input_max=-0.5,
        input_rows_are_log_probabilities=rows,
        input_columns_are_log_probabilities=columns,
    )
    return replace(ev, loss=loss)


def test_log_softmax_over_batch_into_nll() -> None:
    found = SoftmaxWrongAxis().judge(log_softmax_into_nll(rows=False, columns=True))
    assert found is not None
    assert found.code == "DP212" and found.strength == 0.9
    assert "log-softmax is taken over dim=0" in found.message
    assert "LogSoftmax(dim=1)" in found.fix


def test_log_softmax_over_classes_is_silent() -> None:
    assert SoftmaxWrongAxis().judge(log_softmax_into_nll(rows=True, columns=False)) is None
    assert SoftmaxWrongAxis().judge(log_softmax_into_nll(rows=True, columns=True)) is None  # square batch
    assert SoftmaxWrongAxis().judge(log_softmax_into_nll(rows=None, columns=None)) is None  # not measured
