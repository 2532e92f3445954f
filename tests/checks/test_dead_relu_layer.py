from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.model.dead_relu_layer import DeadReluLayer
from deadpan.evidence import Evidence, LayerSignal
from deadpan.findings import Severity


def with_dead(fraction: float, activation: str = "relu", score: float = 1 / 3) -> Evidence:
    ev = healthy()
    layers = (
        LayerSignal("0", "Linear", None, spread=1.0, mean_abs=1.0, units=32),
        LayerSignal("1", "ReLU", activation, spread=0.0, dead_fraction=fraction, mean_abs=0.0, units=32),
        LayerSignal("2", "Linear", None, spread=0.0, mean_abs=0.1, units=3),
    )
    probe = output_probe(distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.0, score=score)
    return replace(ev, probes=replace(ev.probes, layers=layers, train_output=probe))


def test_fully_dead_layer() -> None:
    found = DeadReluLayer().judge(with_dead(1.0))
    assert found is not None
    assert found.code == "DP220"
    assert found.category == "model.dead_units"
    assert found.severity is Severity.ERROR
    assert found.strength == 0.85
    assert "kaiming_normal_" in found.fix


def test_strength_grows_with_fraction() -> None:
    weak = DeadReluLayer().judge(with_dead(0.92))
    strong = DeadReluLayer().judge(with_dead(0.99))
    assert weak is not None and strong is not None
    assert 0.6 <= weak.strength < strong.strength


def test_leaky_relu_is_not_judged() -> None:
    assert DeadReluLayer().judge(with_dead(1.0, activation="leaky_relu")) is None


def test_partly_dead_is_silent() -> None:
    assert DeadReluLayer().judge(with_dead(0.5)) is None


def test_dead_layer_in_healthy_model_is_silent() -> None:
    ev = with_dead(0.95)
    ev = replace(ev, probes=replace(ev.probes, train_output=output_probe()))
    assert DeadReluLayer().judge(ev) is None


def test_healthy_is_silent() -> None:
    assert DeadReluLayer().judge(healthy()) is None
    assert DeadReluLayer().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    found = DeadReluLayer().judge(keras(with_dead(1.0)))
    assert found is not None
    assert 'kernel_initializer="he_normal"' in found.fix
    assert 'activation="leaky_relu"' in found.fix
    assert_no_torch(found.fix)
