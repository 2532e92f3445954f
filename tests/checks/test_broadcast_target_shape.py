from dataclasses import replace

from factory import healthy, regression_healthy

from deadpan.checks.loss.broadcast_target_shape import BroadcastTargetShape
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def _broadcast(ev: Evidence, function: str = "mse_loss") -> Evidence:
    assert ev.loss is not None
    loss = replace(ev.loss, function=function, target_shape=(32,), broadcast_shape=(32, 32))
    return replace(ev, loss=loss)


def test_fires_on_n1_output_against_n_target() -> None:
    found = BroadcastTargetShape().judge(_broadcast(regression_healthy()))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP302", "loss.mismatch", Severity.ERROR)
    assert found.strength >= 0.9
    assert "[32, 1]" in found.message and "[32, 32]" in found.message
    assert "squeeze(-1)" in found.fix and "view(-1, 1)" in found.fix
    assert found.evidence["broadcast_shape"] == (32, 32)


def test_fires_for_target_with_extra_axis() -> None:
    ev = regression_healthy()
    assert ev.loss is not None
    loss = replace(
        ev.loss, function="l1_loss", input_shape=(32,), target_shape=(32, 1), broadcast_shape=(32, 32)
    )
    found = BroadcastTargetShape().judge(replace(ev, loss=loss))
    assert found is not None and "L1Loss" in found.message and "y.squeeze(-1)" in found.fix


def test_silent_for_a_non_elementwise_loss() -> None:
    assert BroadcastTargetShape().judge(_broadcast(healthy(), function="cross_entropy")) is None


def test_silent_when_broadcast_keeps_the_input_shape() -> None:
    ev = regression_healthy()
    assert ev.loss is not None
    assert BroadcastTargetShape().judge(replace(ev, loss=replace(ev.loss, broadcast_shape=(32, 1)))) is None


def test_silent_on_healthy() -> None:
    assert BroadcastTargetShape().judge(healthy()) is None
    assert BroadcastTargetShape().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_one_unit_against_several_target_columns() -> None:
    ev = keras(regression_healthy())
    assert ev.loss is not None
    loss = replace(
        ev.loss, name="mean_squared_error", target_shape=(32, 3), broadcast_shape=(32, 3), input_shape=(32, 1)
    )
    found = BroadcastTargetShape().judge(replace(ev, loss=loss))
    assert found is not None
    assert "`mean_squared_error` gets an output" in found.message
    assert "layers.Dense(3)" in found.fix and "y.reshape(-1, 1)" in found.fix
    assert_no_torch(found.message + found.fix)
