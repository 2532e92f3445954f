from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.model.saturated_units import SaturatedUnits
from deadpan.evidence import Evidence, LayerSignal
from deadpan.findings import Severity


def collapsed(layers: tuple[LayerSignal, ...], score: float = 1 / 3) -> Evidence:
    ev = healthy()
    probe = output_probe(distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.0, score=score)
    return replace(ev, probes=replace(ev.probes, layers=layers, train_output=probe))


def tanh_net(fraction: float) -> tuple[LayerSignal, ...]:
    return (
        LayerSignal("0", "Linear", None, spread=1.0, mean_abs=50.0, units=32),
        LayerSignal("1", "Tanh", "tanh", spread=0.0, saturated_fraction=fraction, mean_abs=1.0, units=32),
        LayerSignal("2", "Linear", None, spread=0.0, mean_abs=0.1, units=3),
    )


def test_saturated_tanh_layer() -> None:
    found = SaturatedUnits().judge(collapsed(tanh_net(0.97)))
    assert found is not None
    assert found.code == "DP221"
    assert found.category == "model.saturation"
    assert found.severity is Severity.ERROR
    assert 0.6 <= found.strength <= 0.85
    assert "xavier_uniform_" in found.fix


def test_saturated_output_sigmoid_is_left_out() -> None:
    layers = (
        LayerSignal("0", "Linear", None, spread=1.0, mean_abs=1.0, units=32),
        LayerSignal("1", "ReLU", "relu", spread=1.0, mean_abs=1.0, units=32),
        LayerSignal("2", "Linear", None, spread=1.0, mean_abs=30.0, units=1),
        LayerSignal("3", "Sigmoid", "sigmoid", spread=0.0, saturated_fraction=1.0, mean_abs=1.0, units=1),
    )
    assert SaturatedUnits().judge(collapsed(layers)) is None


def test_keras_hidden_dense_with_sigmoid() -> None:
    layers = (
        LayerSignal("d0", "Dense", "sigmoid", spread=0.0, saturated_fraction=1.0, mean_abs=1.0, units=32),
        LayerSignal("d1", "Dense", "softmax", spread=0.0, mean_abs=0.3, units=3),
    )
    found = SaturatedUnits().judge(collapsed(layers))
    assert found is not None
    assert found.evidence["layer"] == "d0"


def test_partly_saturated_is_silent() -> None:
    assert SaturatedUnits().judge(collapsed(tanh_net(0.5))) is None


def test_saturated_in_healthy_model_is_silent() -> None:
    ev = collapsed(tanh_net(0.97))
    assert SaturatedUnits().judge(replace(ev, probes=replace(ev.probes, train_output=output_probe()))) is None


def test_healthy_is_silent() -> None:
    assert SaturatedUnits().judge(healthy()) is None
    assert SaturatedUnits().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    found = SaturatedUnits().judge(keras(collapsed(tanh_net(0.97))))
    assert found is not None
    assert "layers.BatchNormalization()" in found.fix
    assert 'kernel_initializer="glorot_uniform"' in found.fix
    assert_no_torch(found.fix)
