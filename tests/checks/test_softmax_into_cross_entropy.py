from dataclasses import replace

from factory import healthy, regression_healthy

from deadpan.checks.loss.softmax_into_cross_entropy import SoftmaxIntoCrossEntropy
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def _probabilities(ev: Evidence, shape: tuple[int, ...] = (32, 3)) -> Evidence:
    assert ev.loss is not None
    loss = replace(
        ev.loss, input_rows_are_probabilities=True, input_min=0.01, input_max=0.95, input_shape=shape
    )
    return replace(ev, loss=loss)


def test_fires_on_probabilities_into_cross_entropy() -> None:
    found = SoftmaxIntoCrossEntropy().judge(_probabilities(healthy()))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP301", "loss.mismatch", Severity.ERROR)
    assert found.strength >= 0.9
    assert "Softmax" in found.fix


def test_fires_on_nll_loss_too() -> None:
    ev = _probabilities(healthy())
    assert ev.loss is not None
    found = SoftmaxIntoCrossEntropy().judge(replace(ev, loss=replace(ev.loss, function="nll_loss")))
    assert found is not None and "NLLLoss" in found.message


def test_one_unit_is_left_to_dp303() -> None:
    assert SoftmaxIntoCrossEntropy().judge(_probabilities(healthy(), shape=(32, 1))) is None


def test_silent_on_healthy() -> None:
    assert SoftmaxIntoCrossEntropy().judge(healthy()) is None
    assert SoftmaxIntoCrossEntropy().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_softmax_output_with_from_logits() -> None:
    ev = keras(_probabilities(healthy()))
    assert ev.loss is not None
    ev = replace(ev, loss=replace(ev.loss, name="sparse_categorical_crossentropy", from_logits=True))
    found = SoftmaxIntoCrossEntropy().judge(ev)
    assert found is not None
    assert "`sparse_categorical_crossentropy` with `from_logits=True`" in found.message
    assert "drop `from_logits=True`" in found.fix and 'activation="softmax"' in found.fix
    assert_no_torch(found.message + found.fix)


def test_keras_probabilities_loss_is_silent() -> None:
    """``from_logits=False`` (``cross_entropy_probs``) expects the softmax output: nothing to report."""
    ev = keras(_probabilities(healthy()))
    assert ev.loss is not None
    ev = replace(ev, loss=replace(ev.loss, function="cross_entropy_probs", from_logits=False))
    assert SoftmaxIntoCrossEntropy().judge(ev) is None
