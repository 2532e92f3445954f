from dataclasses import replace

import numpy as np
from factory import healthy, output_probe, regression_healthy

from deadpan.checks.optim.loss_diverged import LossDiverged
from deadpan.evidence import Evidence, OptimizerInfo
from deadpan.findings import Severity

STEPS = tuple(range(0, 200, 10))


def _collapsed(ev: Evidence) -> Evidence:
    probe = output_probe(distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.0, score=1 / 3)
    return replace(ev, probes=replace(ev.probes, train_output=probe, heldout_output=probe))


def _training(ev: Evidence, **kw: object) -> Evidence:
    assert ev.training is not None
    return replace(ev, training=replace(ev.training, **kw))  # type: ignore[arg-type]


def test_fires_on_nonfinite_loss_even_without_probes() -> None:
    ev = healthy()
    loss = (1.1, 1.5, 4.0, 30.0) + (float("nan"),) * 16
    ev = _training(ev, loss=loss, first_nonfinite_loss_step=40)
    found = LossDiverged().judge(ev)
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP401", "optim.lr_too_high", Severity.ERROR)
    assert found.strength >= 0.75
    assert "lr=" in found.fix and "clip_grad_norm_" in found.fix
    assert found.evidence["first_nonfinite_loss_step"] == 40


def test_nonfinite_after_nonfinite_data_is_weaker() -> None:
    ev = _training(healthy(), first_nonfinite_loss_step=40)
    assert ev.data is not None
    ev = replace(ev, data=replace(ev.data, nonfinite_input_step=12))
    found = LossDiverged().judge(ev)
    assert found is not None and found.strength < 0.5


def test_fires_on_rising_loss_with_collapsed_output() -> None:
    rising = tuple(1.1 + 0.2 * i for i in range(20))
    found = LossDiverged().judge(_collapsed(_training(healthy(), loss=rising, loss_steps=STEPS)))
    assert found is not None and found.evidence["signals"] == ["rose"]
    # The LR range test suggests 3e-3, above the user's 1e-3: suggest 10x lower instead.
    assert "lr=0.0001" in found.fix


def test_fires_on_a_jump_to_a_plateau_in_the_first_steps() -> None:
    # A clipped Keras loss: up from ln C to its ceiling within two steps, then stuck there.
    jumped = (2.3, 9.2) + (14.6,) * 18
    found = LossDiverged().judge(_collapsed(_training(healthy(), loss=jumped, loss_steps=STEPS)))
    assert found is not None and found.evidence["signals"] == ["rose"]
    assert found.evidence["loss_first_step"] == 2.3


def test_silent_when_the_loss_jumps_but_comes_back_down() -> None:
    dips = (2.3, 9.2, 6.0, *(2.0 - 0.05 * i for i in range(17)))
    found = LossDiverged().judge(_collapsed(_training(healthy(), loss=dips, loss_steps=STEPS)))
    assert found is None or "rose" not in found.evidence["signals"]


def test_fires_on_oscillating_loss() -> None:
    wild = tuple([1.1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.4, 0.4, 0.4] + [0.3, 1.5] * 5)
    found = LossDiverged().judge(_collapsed(_training(healthy(), loss=wild, loss_steps=STEPS)))
    assert found is not None and "oscillating" in found.evidence["signals"]


def test_silent_on_a_noisy_plateau() -> None:
    # No signal in the data: the loss stays around ln C with large minibatch noise, it never diverges.
    rng = np.random.default_rng(0)
    noisy = tuple(float(1.1 + rng.normal(0, 0.3)) for _ in STEPS)
    assert LossDiverged().judge(_collapsed(_training(healthy(), loss=noisy, loss_steps=STEPS))) is None


def test_fires_on_lr_near_the_diverging_lr_and_huge_updates() -> None:
    ev = _training(healthy(), optimizer=OptimizerInfo("SGD", lr=0.5), update_ratio=(0.3,) * 20)
    found = LossDiverged().judge(_collapsed(ev))
    assert found is not None
    assert set(found.evidence["signals"]) == {"above_diverge_lr", "above_suggested_lr", "high_updates"}
    assert "torch.optim.SGD(model.parameters(), lr=0.003)" in found.fix
    assert found.strength > 0.8


def test_fires_on_an_explosion_that_settles_on_a_constant_answer() -> None:
    # Adam at 100x its learning rate: the loss blows up in the first steps, then settles at ln C, where a
    # constant answer (dead ReLUs) leaves it; the end of the curve looks calm.
    exploded = (1.1, 9.5, 14.5, 17.4, 6.5, 3.3, 1.4) + (1.1,) * 13
    found = LossDiverged().judge(_collapsed(_training(healthy(), loss=exploded, loss_steps=STEPS)))
    assert found is not None and "spiked" in found.evidence["signals"]
    assert found.evidence["loss_peak"] == 14.5  # two points in a row above it
    assert found.strength >= 0.7
    assert "exploded from 1.1" in found.message and "settled at 1.1" in found.message


def test_silent_on_one_odd_batch() -> None:
    # One batch far above the start and everything else calm: no explosion (two in a row are needed).
    odd = (1.1, 1.0, 6.0, 0.95, *(0.95,) * 16)
    found = LossDiverged().judge(_collapsed(_training(healthy(), loss=odd, loss_steps=STEPS)))
    assert found is None or "spiked" not in found.evidence["signals"]


def test_fires_when_the_loss_climbs_back_after_learning() -> None:
    # SGD momentum 0.999: the loss falls from 1.0 to about 0.15, then climbs back to about 0.6.
    rng = np.random.default_rng(0)
    base = [1.0 - 0.085 * i for i in range(10)] + [0.15] * 10 + [0.6] * 20
    relapsed = tuple(float(v * (1 + rng.normal(0, 0.1))) for v in base)
    ev = _training(
        healthy(),
        loss=relapsed,
        loss_steps=tuple(range(0, 400, 10)),
        optimizer=OptimizerInfo("SGD", lr=0.01, momentum=0.999),
    )
    found = LossDiverged().judge(_collapsed(ev))
    assert found is not None and found.evidence["signals"] == ["relapsed"]
    assert "climbed back" in found.message
    # The momentum is the step multiplier to lower.
    assert "momentum 0.999 multiplies each step by up to 1000x" in found.message
    assert "torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)" in found.fix


def test_silent_when_the_loss_falls_and_stays_down() -> None:
    rng = np.random.default_rng(0)
    base = [1.0 - 0.085 * i for i in range(10)] + [0.15] * 30
    noisy = tuple(float(v * (1 + rng.normal(0, 0.2))) for v in base)
    found = LossDiverged().judge(
        _collapsed(_training(healthy(), loss=noisy, loss_steps=tuple(range(0, 400, 10))))
    )
    assert found is None


def test_a_learning_rate_past_the_suggestion_alone_is_not_enough() -> None:
    # 0.1 is 33x the range test's 3e-3 suggestion but below its divergence point, and the curve is calm.
    ev = _training(healthy(), optimizer=OptimizerInfo("Adam", lr=0.1))
    assert LossDiverged().judge(_collapsed(ev)) is None


def test_silent_when_the_model_is_fine() -> None:
    rising_lr = _training(healthy(), optimizer=OptimizerInfo("SGD", lr=0.5), update_ratio=(0.3,) * 20)
    assert LossDiverged().judge(rising_lr) is None


def test_silent_on_healthy() -> None:
    assert LossDiverged().judge(healthy()) is None
    assert LossDiverged().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    ev = healthy()
    loss = (1.1, 1.5, 4.0, 30.0) + (float("nan"),) * 16
    found = LossDiverged().judge(keras(_training(ev, loss=loss, first_nonfinite_loss_step=40)))
    assert found is not None
    assert (
        "model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.0001, clipnorm=1.0), ...)" in found.fix
    )
    assert_no_torch(found.fix)
