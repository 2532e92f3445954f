from dataclasses import replace

from deadpan.checks.loss.softmax_into_cross_entropy import SoftmaxIntoCrossEntropy
from deadpan.evidence import Evidence
from deadpan.findings import Severity
from factory import healthy, regression_healthy


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
