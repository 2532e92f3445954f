from dataclasses import replace

import numpy as np
from factory import healthy, regression_healthy

from deadpan.checks.model.clipping_output_head import ClippingOutputHead
from deadpan.evidence import Evidence, LayerInfo
from deadpan.findings import Severity


def with_head(kind: str, activation: str, **probe: bool) -> Evidence:
    ev = regression_healthy()
    assert ev.model is not None and ev.probes.train_output is not None
    layers = (
        *ev.model.layers[:2],
        LayerInfo("2", "Linear", units=1, n_params=33),
        LayerInfo("3", kind, activation),
    )
    return replace(
        ev,
        model=replace(ev.model, layers=layers),
        probes=replace(ev.probes, train_output=replace(ev.probes.train_output, score=0.2, **probe)),
    )


def test_relu_head_with_negative_targets() -> None:
    found = ClippingOutputHead().judge(with_head("ReLU", "relu", outputs_nonnegative=True))
    assert found is not None
    assert found.code == "DP211"
    assert found.category == "model.output"
    assert found.severity is Severity.ERROR
    assert found.evidence["head"] == "ReLU"
    assert 0.6 <= found.strength <= 0.85
    assert "nn.Linear(d, 1)" in found.fix


def test_sigmoid_head_with_large_targets() -> None:
    ev = with_head("Sigmoid", "sigmoid", outputs_nonnegative=True, outputs_in_unit_interval=True)
    found = ClippingOutputHead().judge(ev)
    assert found is not None
    assert found.evidence["head"] == "sigmoid"


def test_relu_head_with_nonnegative_targets_is_silent() -> None:
    ev = with_head("ReLU", "relu", outputs_nonnegative=True)
    assert ev.data is not None
    ev = replace(ev, data=replace(ev.data, y=np.abs(ev.data.y)))
    assert ClippingOutputHead().judge(ev) is None


def test_classification_is_silent() -> None:
    ev = healthy()
    assert ev.probes.train_output is not None
    probe = replace(ev.probes.train_output, outputs_nonnegative=True, outputs_in_unit_interval=True)
    assert ClippingOutputHead().judge(replace(ev, probes=replace(ev.probes, train_output=probe))) is None


def test_healthy_is_silent() -> None:
    assert ClippingOutputHead().judge(healthy()) is None
    assert ClippingOutputHead().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    found = ClippingOutputHead().judge(keras(with_head("Activation", "relu", outputs_nonnegative=True)))
    assert found is not None
    assert "`layers.Dense(1)`" in found.fix
    assert_no_torch(found.fix)


def test_constant_output_from_a_linear_head_is_silent() -> None:
    # A diverged run stuck on one value inside [0, 1]: no bounded activation on the head, so the bound is
    # a coincidence of the constant, not a clipping head.
    ev = regression_healthy()
    assert ev.model is not None and ev.probes.train_output is not None
    stuck = replace(
        ev.probes.train_output,
        score=0.0,
        outputs_nonnegative=True,
        outputs_in_unit_interval=True,
        output_spread_ratio=0.0,
        distinct_predictions=1,
    )
    ev = replace(ev, probes=replace(ev.probes, train_output=stuck))
    assert ClippingOutputHead().judge(ev) is None
    with_sigmoid = with_head("Sigmoid", "sigmoid", outputs_nonnegative=True, outputs_in_unit_interval=True)
    assert with_sigmoid.probes.train_output is not None
    ev = replace(
        with_sigmoid,
        probes=replace(
            with_sigmoid.probes,
            train_output=replace(with_sigmoid.probes.train_output, output_spread_ratio=0.0),
        ),
    )
    assert ClippingOutputHead().judge(ev) is not None
