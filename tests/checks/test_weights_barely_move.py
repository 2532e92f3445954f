from dataclasses import replace

import numpy as np
import pytest
from factory import healthy, output_probe, regression_healthy

from deadpan.checks.optim.weights_barely_move import WeightsBarelyMove
from deadpan.evidence import Evidence, OptimizerInfo
from deadpan.findings import Severity

#: Unclipped gradient norms vary from batch to batch.
NATURAL_GRADS = tuple(0.5 + 0.05 * (i % 5) for i in range(20))


def _stuck(
    ev: Evidence,
    lr: float = 1e-6,
    suggested: float | None = 3e-3,
    drop: float = 0.02,
    ratio: float = 1e-7,
    steps: int = 200,
    grads: tuple[float, ...] = NATURAL_GRADS,
    optimizer: str = "Adam",
) -> Evidence:
    """``ratio`` per step over ``steps`` steps, a loss that fell by ``drop``, a model near chance."""
    assert ev.training is not None and ev.probes.lr_range is not None
    loss = tuple(1.1 * (1 - drop * i / 19) + 0.05 * (-1) ** i for i in range(20))
    training = replace(
        ev.training,
        steps=steps,
        optimizer=OptimizerInfo(optimizer, lr=lr),
        update_ratio=(ratio,) * 20,
        loss=loss,
        grad_norm=grads,
    )
    probe = output_probe(score=0.36, majority_share=0.9, output_spread_ratio=0.3)
    lr_range = replace(ev.probes.lr_range, suggested_lr=suggested, user_lr=lr)
    return replace(ev, training=training, probes=replace(ev.probes, train_output=probe, lr_range=lr_range))


def test_fires_on_tiny_updates() -> None:
    found = WeightsBarelyMove().judge(_stuck(healthy()))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP402", "optim.lr_too_low", Severity.ERROR)
    assert 0.7 <= found.strength <= 0.8
    assert "torch.optim.Adam(model.parameters(), lr=0.003)" in found.fix


def test_fires_without_an_lr_range_test() -> None:
    ev = _stuck(healthy())
    found = WeightsBarelyMove().judge(replace(ev, probes=replace(ev.probes, lr_range=None)))
    assert found is not None and found.strength == 0.6 and "lr=3e-05" in found.fix


def test_silent_when_the_lr_range_test_finds_no_better_lr() -> None:
    assert WeightsBarelyMove().judge(_stuck(healthy(), suggested=1e-5)) is None


def test_silent_when_the_loss_fell_and_no_range_test_asks_for_more() -> None:
    ev = _stuck(healthy(), drop=0.5)
    assert WeightsBarelyMove().judge(replace(ev, probes=replace(ev.probes, lr_range=None))) is None


def test_a_fallen_loss_is_no_alibi_when_the_weights_went_nowhere() -> None:
    # Weights that travelled 2e-5 of their norm, a range test asking for a rate 3,000x larger, a model at
    # chance: the 50% fall is the output bias learning the prior, not the network learning the inputs.
    found = WeightsBarelyMove().judge(_stuck(healthy(), drop=0.5))
    assert found is not None and found.category == "optim.lr_too_low"


def _falling(ev: Evidence, curve: tuple[float, ...]) -> Evidence:
    assert ev.training is not None
    return replace(ev, training=replace(ev.training, loss=curve))


STILL_FALLING = tuple(1.1 - 0.02 * i + 0.005 * (-1) ** i for i in range(20))
FLATTENED = tuple(0.5 + 0.6 * float(np.exp(-i / 2)) + 0.005 * (-1) ** i for i in range(20))


def test_fires_on_slow_steps_while_the_loss_still_falls() -> None:
    # Plain SGD at 1e-3 over 2,000 steps: 2e-4 of the weights' norm per step (0.4 in all), the loss fell
    # 35% and still falls at the end, and the range test descends fastest at 0.3.
    ev = _falling(
        _stuck(healthy(), lr=1e-3, suggested=0.3, ratio=2e-4, steps=2000, optimizer="SGD"), STILL_FALLING
    )
    found = WeightsBarelyMove().judge(ev)
    assert found is not None and found.category == "optim.lr_too_low"
    assert found.evidence["loss_still_falling"] is True
    assert "still falling when training stopped" in found.message
    assert "torch.optim.SGD(model.parameters(), lr=0.3)" in found.fix


def test_slow_steps_are_fine_when_the_loss_flattened_or_the_rate_is_near_the_range() -> None:
    slow = _stuck(healthy(), lr=1e-3, suggested=0.3, ratio=2e-4, steps=2000, optimizer="SGD")
    assert WeightsBarelyMove().judge(_falling(slow, FLATTENED)) is None
    near = _stuck(healthy(), lr=1e-3, suggested=3e-3, ratio=2e-4, steps=2000, optimizer="SGD")
    assert WeightsBarelyMove().judge(_falling(near, STILL_FALLING)) is None


def _over_the_run(ev: Evidence) -> Evidence:
    """The loss points spread over the whole run (every 100th of 2,000 steps)."""
    assert ev.training is not None
    return replace(ev, training=replace(ev.training, loss_steps=tuple(range(0, 2000, 100))))


#: A fall that has barely begun to slow: about 20 times the run still to go at this pace.
LONG_WAY_TO_GO = tuple(0.5 + 0.6 * float(np.exp(-i / 120)) + 0.001 * (-1) ** i for i in range(20))


def test_fires_on_healthy_steps_with_a_long_way_to_go_far_below_the_range() -> None:
    # Adam at 1e-3 moves the weights a healthy 2e-3 of their norm per step, but the loss falls at that pace
    # for ~20 runs more, and the range test descends fastest at 1.0: the rate, not the run's length.
    paced = _stuck(healthy(), lr=1e-3, suggested=1.0, ratio=2e-3, steps=2000)
    found = WeightsBarelyMove().judge(_over_the_run(_falling(paced, LONG_WAY_TO_GO)))
    assert found is not None and found.category == "optim.lr_too_low"
    assert found.message.startswith("the learning rate sets the pace")
    assert "x the run to finish" in found.message


def test_healthy_steps_with_a_long_way_to_go_near_the_range_are_a_short_run() -> None:
    near = _stuck(healthy(), lr=1e-3, suggested=3e-3, ratio=2e-3, steps=2000)
    assert WeightsBarelyMove().judge(_over_the_run(_falling(near, LONG_WAY_TO_GO))) is None
    short_way = _stuck(healthy(), lr=1e-3, suggested=1.0, ratio=2e-3, steps=2000)
    assert WeightsBarelyMove().judge(_over_the_run(_falling(short_way, STILL_FALLING))) is None


def test_fires_on_small_steps_that_add_up_to_little() -> None:
    # Plain SGD at 1e-3: 1e-4 of the weights' norm per step, 0.02 of it over 200 steps.
    ev = _stuck(healthy(), lr=1e-3, suggested=0.3, ratio=1e-4, optimizer="SGD")
    found = WeightsBarelyMove().judge(ev)
    assert found is not None and found.category == "optim.lr_too_low"
    assert found.evidence["weight_travel"] == pytest.approx(0.02)
    assert "torch.optim.SGD(model.parameters(), lr=0.3)" in found.fix


def test_silent_when_small_steps_add_up_to_a_lot() -> None:
    # The same steps over 5,000 steps travel half the weights' norm: not "barely moving".
    ev = _stuck(healthy(), lr=1e-3, suggested=0.3, ratio=1e-4, steps=5000, optimizer="SGD")
    assert WeightsBarelyMove().judge(ev) is None


def test_silent_on_a_short_run_at_healthy_step_sizes() -> None:
    # 20 steps of 2e-3 travel only 0.04, but each step is healthy: the run is short, the rate is fine.
    ev = _stuck(healthy(), lr=1e-3, suggested=0.3, ratio=2e-3, steps=20)
    assert WeightsBarelyMove().judge(ev) is None


def test_fires_on_gradients_clipped_to_a_tiny_norm() -> None:
    # The learning rate is the range test's own, but every gradient is clipped to 1e-4: tiny steps.
    ev = _stuck(healthy(), lr=0.01, suggested=0.016, ratio=2e-6, grads=(1e-4,) * 20, optimizer="SGD")
    found = WeightsBarelyMove().judge(ev)
    assert found is not None
    assert found.evidence["clipped_grad_norm"] == pytest.approx(1e-4)
    assert "clipped to norm 0.0001" in found.message
    assert "clip_grad_norm_(model.parameters(), 1.0)" in found.fix
    assert 0.7 <= found.strength <= 0.8


def test_a_constant_gradient_on_a_constant_loss_is_not_clipping() -> None:
    # The same batch every step and weights that do not move: gradient and loss repeat, nothing is clipped,
    # and the range test finds no better learning rate.
    ev = _stuck(healthy(), lr=0.01, suggested=0.016, ratio=2e-6, grads=(0.3,) * 20)
    assert ev.training is not None
    ev = replace(ev, training=replace(ev.training, loss=(1.1,) * 20))
    assert WeightsBarelyMove().judge(ev) is None


def test_silent_when_the_initial_weights_are_huge() -> None:
    # Weights initialised 300x too large: every update is small next to them, the init is the cause.
    ev = _stuck(healthy())
    assert ev.model is not None
    big = tuple(replace(w, std=300 * w.expected_std) for w in ev.model.initial_weights)
    assert WeightsBarelyMove().judge(replace(ev, model=replace(ev.model, initial_weights=big))) is None


def test_silent_when_no_gradient_flows() -> None:
    ev = _stuck(healthy())
    assert ev.training is not None
    assert (
        WeightsBarelyMove().judge(replace(ev, training=replace(ev.training, grad_norm=(0.0,) * 20))) is None
    )


def test_silent_when_the_model_is_fine() -> None:
    ev = _stuck(healthy())
    assert (
        WeightsBarelyMove().judge(replace(ev, probes=replace(ev.probes, train_output=output_probe()))) is None
    )


def test_silent_on_healthy() -> None:
    assert WeightsBarelyMove().judge(healthy()) is None
    assert WeightsBarelyMove().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    found = WeightsBarelyMove().judge(keras(_stuck(healthy())))
    assert found is not None
    assert "model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), ...)" in found.fix
    assert_no_torch(found.fix)


def test_keras_clipping_fix_speaks_keras() -> None:
    ev = _stuck(healthy(), lr=0.01, suggested=0.016, ratio=2e-6, grads=(1e-4,) * 20)
    found = WeightsBarelyMove().judge(keras(ev))
    assert found is not None
    assert "model.compile(optimizer=keras.optimizers.Adam(clipnorm=1.0), ...)" in found.fix
    assert_no_torch(found.fix)


def test_keras_clipnorm_too_tiny_is_the_reason() -> None:
    # Keras clips inside the optimizer and deadpan records no gradient norms there: the configured
    # ``clipnorm`` is the evidence.
    ev = keras(_stuck(healthy(), lr=0.01, suggested=0.016, ratio=2e-6, grads=()))
    assert ev.training is not None and ev.training.optimizer is not None
    clipped = replace(ev.training, optimizer=replace(ev.training.optimizer, clip_norm=1e-4))
    found = WeightsBarelyMove().judge(replace(ev, training=clipped))
    assert found is not None and found.evidence["clipped_grad_norm"] == 1e-4
    assert "clipnorm=1.0" in found.fix
    # A usual clipping norm is not blamed: the range test finds no better rate, so nothing fires.
    usual = replace(ev.training, optimizer=replace(ev.training.optimizer, clip_norm=1.0))
    assert WeightsBarelyMove().judge(replace(ev, training=usual)) is None


def test_a_schedule_that_brought_the_rate_down_is_named() -> None:
    ev = _stuck(healthy(), lr=1e-9)
    assert ev.training is not None and ev.training.optimizer is not None
    decayed = replace(ev.training, optimizer=replace(ev.training.optimizer, start_lr=1e-3))
    found = WeightsBarelyMove().judge(replace(ev, training=decayed))
    assert found is not None and "schedule brought it down from 0.001" in found.message
    plain = WeightsBarelyMove().judge(ev)
    assert plain is not None and "schedule" not in plain.message
