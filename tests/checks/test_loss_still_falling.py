from dataclasses import replace

import numpy as np
from factory import healthy, output_probe, regression_healthy

from deadpan.checks.train.loss_still_falling import LossStillFalling
from deadpan.evidence import Evidence
from deadpan.findings import Severity

STEPS = tuple(range(0, 200, 10))


def _run(tau: float = 400.0, score: float = 0.55, nonfinite: int | None = None) -> Evidence:
    """A loss decaying with time constant ``tau`` steps over a 200-step run, and a model scoring ``score``."""
    ev = healthy()
    assert ev.training is not None
    loss = tuple(float(1.1 * np.exp(-s / tau) + 0.05) for s in STEPS)
    training = replace(ev.training, loss=loss, loss_steps=STEPS, first_nonfinite_loss_step=nonfinite)
    probe = output_probe(score=score, majority_share=0.6)
    return replace(ev, training=training, probes=replace(ev.probes, train_output=probe))


def test_fires_when_stopped_while_the_loss_still_falls() -> None:
    found = LossStillFalling().judge(_run())
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP510", "train.too_short", Severity.WARNING)
    assert 0.6 <= found.strength <= 0.75
    assert "more optimizer steps" in found.fix
    # tau = 400 steps: about 3 time constants (~1200 steps) more.
    assert 800 <= found.evidence["suggested_more_steps"] <= 1600


def test_ranks_itself_below_the_learning_rate_when_the_rate_sets_the_pace() -> None:
    # tau = 4,000 steps on a 200-step run: ~60 times the run still to go. With the range test at the user's
    # rate the run is short; with the range test 1,000x above it, the learning rate sets the pace.
    ev = _run(tau=4000.0)
    assert ev.probes.lr_range is not None and ev.training is not None
    lr = ev.training.optimizer.lr if ev.training.optimizer is not None else ev.probes.lr_range.user_lr
    assert lr is not None
    near = replace(ev, probes=replace(ev.probes, lr_range=replace(ev.probes.lr_range, suggested_lr=lr)))
    far = replace(ev, probes=replace(ev.probes, lr_range=replace(ev.probes.lr_range, suggested_lr=1e3 * lr)))
    short, paced = LossStillFalling().judge(near), LossStillFalling().judge(far)
    assert short is not None and paced is not None
    assert short.evidence["paced_by_learning_rate"] is False
    assert paced.evidence["paced_by_learning_rate"] is True
    assert paced.strength <= short.strength - 0.15


def test_silent_when_the_loss_falls_below_its_own_floor() -> None:
    # nll_loss on raw scores: the "fall" from -0.4 to -5,000 is the loss escaping its bound, not learning;
    # the same curve shifted above 0 is a run still falling.
    ev = _run()
    assert ev.training is not None and ev.loss is not None
    escaping = tuple(-0.4 - 25.0 * s for s in STEPS)
    broken = replace(
        ev, training=replace(ev.training, loss=escaping), loss=replace(ev.loss, function="nll_loss")
    )
    assert LossStillFalling().judge(broken) is None
    shifted = replace(broken, training=replace(ev.training, loss=tuple(6000 + v for v in escaping)))
    assert LossStillFalling().judge(shifted) is not None


def test_silent_when_the_loss_has_flattened() -> None:
    assert LossStillFalling().judge(_run(tau=40.0)) is None


def test_silent_on_minibatch_noise_over_a_plateau() -> None:
    ev = _run()
    assert ev.training is not None
    rng = np.random.default_rng(0)
    noisy = tuple(float(0.6 + 0.5 * np.exp(-s / 20) + rng.normal(0, 0.05)) for s in STEPS)
    assert LossStillFalling().judge(replace(ev, training=replace(ev.training, loss=noisy))) is None


def test_silent_when_the_model_already_performs() -> None:
    assert LossStillFalling().judge(_run(score=0.95)) is None


def test_silent_when_the_loss_went_nonfinite() -> None:
    assert LossStillFalling().judge(_run(nonfinite=150)) is None


def test_silent_on_healthy() -> None:
    assert LossStillFalling().judge(healthy()) is None
    assert LossStillFalling().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    found = LossStillFalling().judge(keras(_run()))
    assert found is not None
    assert "`epochs` in `model.fit(..., epochs=...)`" in found.fix
    assert "range(num_epochs)" not in found.fix
    assert_no_torch(found.fix)


def test_silent_on_data_without_signal() -> None:
    # Random labels: the loss falls because the network memorises its samples; more epochs would not help.
    from deadpan.evidence import LearnabilityProbe

    ev = _run()
    assert LossStillFalling().judge(ev) is not None
    noise = LearnabilityProbe("balanced_accuracy", 0.33, 0.34, 0.34, 1 / 3, n_samples=800)
    assert LossStillFalling().judge(replace(ev, probes=replace(ev.probes, learnability=noise))) is None


def _few_steps(loss: tuple[float, ...], score: float = 0.55) -> Evidence:
    ev = healthy()
    assert ev.training is not None
    steps = tuple(range(len(loss)))
    training = replace(ev.training, loss=loss, loss_steps=steps, steps=len(loss))
    probe = output_probe(score=score, majority_share=0.6)
    return replace(ev, training=training, probes=replace(ev.probes, train_output=probe))


def test_a_handful_of_steps_with_a_falling_loss_is_too_short() -> None:
    found = LossStillFalling().judge(_few_steps((1.10, 1.08, 1.05, 1.03, 1.01, 1.0)))
    assert found is not None and found.evidence["steps"] == 6
    assert "mini-batches" in found.fix


def test_a_handful_of_steps_is_silent_when_the_model_does_well_or_the_loss_is_flat() -> None:
    assert LossStillFalling().judge(_few_steps((1.10, 1.08, 1.05, 1.03, 1.01, 1.0), score=0.99)) is None
    assert LossStillFalling().judge(_few_steps((1.0, 1.0, 1.0, 1.0))) is None


def test_a_short_run_is_too_short_whatever_its_noisy_curve() -> None:
    # 40 steps of minibatch losses that fell and then bounce: the curve test cannot tell a trend from noise,
    # the step count can.
    rng = np.random.default_rng(0)
    loss = tuple(float(0.4 + 0.9 * np.exp(-i / 5) + 0.1 * rng.normal()) for i in range(40))
    found = LossStillFalling().judge(_few_steps(loss))
    assert found is not None and found.evidence["steps"] == 40
    assert found.evidence["loss_start"] > found.evidence["loss_end"]
    # The same curve over a run of 400 steps has flattened: nothing to say.
    ev = _few_steps(loss)
    assert ev.training is not None
    assert LossStillFalling().judge(replace(ev, training=replace(ev.training, steps=400))) is None


def test_a_short_run_whose_loss_fell_at_every_step_is_too_short_however_little() -> None:
    # Five full-batch epochs, 2% down in all, lower at every step (DeepFD's post 44164749).
    assert LossStillFalling().judge(_few_steps((2.296, 2.291, 2.284, 2.270, 2.252))) is not None
    # Four points in order are too few to tell from noise; a dip back up is not a steady fall.
    assert LossStillFalling().judge(_few_steps((2.296, 2.291, 2.284, 2.280))) is None
    assert LossStillFalling().judge(_few_steps((2.296, 2.291, 2.294, 2.284, 2.280))) is None
