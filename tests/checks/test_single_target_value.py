from dataclasses import replace

import numpy as np
from factory import healthy, regression_healthy

from deadpan.checks.data.single_target_value import SingleTargetValue
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def test_one_class_only() -> None:
    ev = healthy()
    assert ev.data is not None
    ev = replace(ev, data=replace(ev.data, y=np.full(300, 2)))
    found = SingleTargetValue().judge(ev)
    assert found is not None
    assert found.code == "DP103"
    assert found.category == "data.labels"
    assert found.severity is Severity.ERROR
    assert found.strength == 0.95
    assert found.evidence["value"] == "2"


def test_constant_regression_target() -> None:
    ev = regression_healthy()
    assert ev.data is not None
    ev = replace(ev, data=replace(ev.data, y=np.full((300, 1), 3.5)))
    found = SingleTargetValue().judge(ev)
    assert found is not None
    assert found.code == "DP103"


def test_identical_one_hot_rows() -> None:
    ev = healthy()
    assert ev.data is not None
    y = np.tile([0.0, 1.0, 0.0], (300, 1))
    found = SingleTargetValue().judge(replace(ev, data=replace(ev.data, y=y)))
    assert found is not None


def test_two_values_is_silent() -> None:
    ev = healthy()
    assert ev.data is not None
    y = np.zeros(300, int)
    y[0] = 1
    assert SingleTargetValue().judge(replace(ev, data=replace(ev.data, y=y))) is None


def test_healthy_is_silent() -> None:
    assert SingleTargetValue().judge(healthy()) is None
    assert SingleTargetValue().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    ev = healthy()
    assert ev.data is not None
    found = SingleTargetValue().judge(keras(replace(ev, data=replace(ev.data, y=np.full(300, 2)))))
    assert found is not None
    assert "model.fit(x, y)" in found.fix
    assert_no_torch(found.fix)
