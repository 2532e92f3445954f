from dataclasses import replace

from factory import healthy, regression_healthy

from deadpan.checks.loss.initial_loss_off import InitialLossOff
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def _initial(loss: float) -> Evidence:
    ev = healthy()
    return replace(ev, probes=replace(ev.probes, initial_loss=loss))


def test_fires_when_initial_loss_is_far_above_ln_c() -> None:
    found = InitialLossOff().judge(_initial(8.0))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP306", "init.scale", Severity.WARNING)
    assert 0.3 <= found.strength <= 0.5
    assert found.evidence["ratio"] > 3


def test_extreme_initial_loss_is_an_error() -> None:
    found = InitialLossOff().judge(_initial(60.0))
    assert found is not None and found.severity is Severity.ERROR and found.strength <= 0.5
    nonfinite = InitialLossOff().judge(_initial(float("inf")))
    assert nonfinite is not None and nonfinite.severity is Severity.ERROR


def test_fires_weakly_when_initial_loss_is_far_below() -> None:
    found = InitialLossOff().judge(_initial(0.1))
    assert found is not None and found.severity is Severity.WARNING and found.strength <= 0.35


def test_silent_within_the_band() -> None:
    assert InitialLossOff().judge(_initial(2.5)) is None
    assert InitialLossOff().judge(_initial(0.5)) is None


def test_silent_on_healthy() -> None:
    assert InitialLossOff().judge(healthy()) is None
    assert InitialLossOff().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    high = InitialLossOff().judge(keras(_initial(8.0)))
    low = InitialLossOff().judge(keras(_initial(0.1)))
    assert high is not None and low is not None
    assert "kernel_initializer=keras.initializers.RandomNormal(stddev=0.01)" in high.fix
    assert "model.load_weights" in low.fix
    assert_no_torch(high.fix + low.fix)
