from dataclasses import replace

import numpy as np
from factory import healthy, output_probe, regression_healthy

from deadpan.checks.data.unscaled_inputs import UnscaledInputs
from deadpan.evidence import Evidence, Probes
from deadpan.findings import Severity


def collapsed(ev: Evidence) -> Evidence:
    probe = output_probe(distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.0, score=1 / 3)
    return replace(ev, probes=replace(ev.probes, train_output=probe))


def raw_pixels() -> Evidence:
    ev = healthy()
    assert ev.data is not None
    x = np.random.default_rng(0).integers(0, 256, size=(300, 64)).astype(float)
    return replace(ev, data=replace(ev.data, x=x, x_heldout=x[:60], input_dtype="uint8"))


def test_raw_pixels_with_collapsed_model() -> None:
    found = UnscaledInputs().judge(collapsed(raw_pixels()))
    assert found is not None
    assert found.code == "DP111"
    assert found.category == "data.inputs"
    assert found.severity is Severity.ERROR
    assert 0.6 <= found.strength <= 0.8
    assert "/ 255." in found.fix


def test_feature_scales_far_apart() -> None:
    ev = healthy()
    assert ev.data is not None
    x = ev.data.x.copy() * 0.1
    x[:, 0] = x[:, 0] * 1e5
    found = UnscaledInputs().judge(collapsed(replace(ev, data=replace(ev.data, x=x))))
    assert found is not None
    assert "StandardScaler" in found.fix


def test_tiny_inputs() -> None:
    ev = healthy()
    assert ev.data is not None
    found = UnscaledInputs().judge(collapsed(replace(ev, data=replace(ev.data, x=ev.data.x * 1e-6))))
    assert found is not None
    assert found.code == "DP111"


def test_unprobed_is_a_weak_warning() -> None:
    found = UnscaledInputs().judge(replace(raw_pixels(), probes=Probes()))
    assert found is not None
    assert found.severity is Severity.WARNING
    assert found.strength <= 0.3


def test_unscaled_but_model_fine_is_silent() -> None:
    assert UnscaledInputs().judge(raw_pixels()) is None


def test_constant_inputs_left_to_dp110() -> None:
    ev = healthy()
    assert ev.data is not None
    ev = replace(ev, data=replace(ev.data, x=np.full((300, 4), 1e4)))
    assert UnscaledInputs().judge(collapsed(ev)) is None


def test_healthy_is_silent() -> None:
    assert UnscaledInputs().judge(healthy()) is None
    assert UnscaledInputs().judge(regression_healthy()) is None
    assert UnscaledInputs().judge(collapsed(healthy())) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_raw_pixels_fix() -> None:
    found = UnscaledInputs().judge(keras(collapsed(raw_pixels())))
    assert found is not None
    assert "layers.Rescaling(1 / 255)" in found.fix
    assert_no_torch(found.fix)
    assert "transforms." not in found.fix


def test_keras_feature_scales_fix() -> None:
    ev = healthy()
    assert ev.data is not None
    x = ev.data.x.copy() * 0.1
    x[:, 0] = x[:, 0] * 1e5
    found = UnscaledInputs().judge(keras(collapsed(replace(ev, data=replace(ev.data, x=x)))))
    assert found is not None
    assert "keras.layers.Normalization()" in found.fix
    assert "norm.adapt(x_train)" in found.fix
    assert_no_torch(found.fix)
