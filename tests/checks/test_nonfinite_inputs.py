from dataclasses import replace

import numpy as np
from factory import healthy, regression_healthy

from deadpan.checks.data.nonfinite_inputs import NonfiniteInputs
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def test_nonfinite_input_step() -> None:
    ev = healthy()
    assert ev.data is not None
    found = NonfiniteInputs().judge(replace(ev, data=replace(ev.data, nonfinite_input_step=17)))
    assert found is not None
    assert found.code == "DP112"
    assert found.category == "data.inputs"
    assert found.severity is Severity.ERROR
    assert found.strength == 0.95
    assert found.evidence["first_step"] == 17


def test_nan_in_sampled_inputs() -> None:
    ev = healthy()
    assert ev.data is not None
    x = ev.data.x.copy()
    x[5, 2] = np.nan
    x[9, 0] = np.inf
    found = NonfiniteInputs().judge(replace(ev, data=replace(ev.data, x=x)))
    assert found is not None
    assert found.evidence["sample_nonfinite_inputs"] == 2
    assert found.evidence["first_step"] is None


def test_nan_in_targets() -> None:
    ev = regression_healthy()
    assert ev.data is not None
    y = ev.data.y.copy()
    y[3] = np.nan
    found = NonfiniteInputs().judge(replace(ev, data=replace(ev.data, y=y, nonfinite_target_step=4)))
    assert found is not None
    assert "targets" in found.message
    assert found.evidence["nonfinite_target_step"] == 4


def test_healthy_is_silent() -> None:
    assert NonfiniteInputs().judge(healthy()) is None
    assert NonfiniteInputs().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    ev = healthy()
    assert ev.data is not None
    found = NonfiniteInputs().judge(keras(replace(ev, data=replace(ev.data, nonfinite_input_step=17))))
    assert found is not None
    assert "`np.isnan(x).any()`" in found.fix
    assert_no_torch(found.fix)
