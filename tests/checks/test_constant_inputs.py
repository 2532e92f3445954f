from dataclasses import replace

import numpy as np
from factory import healthy, regression_healthy

from deadpan.checks.data.constant_inputs import ConstantInputs
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def test_all_zero_inputs() -> None:
    ev = healthy()
    assert ev.data is not None
    ev = replace(ev, data=replace(ev.data, x=np.zeros((300, 4))))
    found = ConstantInputs().judge(ev)
    assert found is not None
    assert found.code == "DP110"
    assert found.category == "data.inputs"
    assert found.severity is Severity.ERROR
    assert found.strength == 0.95
    assert found.evidence["all_zero"] is True


def test_same_nonzero_inputs() -> None:
    ev = healthy()
    assert ev.data is not None
    x = np.tile(np.array([[1e5, 3.0, -2.0, 7.0]]), (300, 1))
    found = ConstantInputs().judge(replace(ev, data=replace(ev.data, x=x)))
    assert found is not None
    assert found.evidence["all_zero"] is False


def test_one_varying_feature_is_silent() -> None:
    ev = healthy()
    assert ev.data is not None
    x = np.zeros((300, 4))
    x[:, 2] = np.arange(300) % 3
    assert ConstantInputs().judge(replace(ev, data=replace(ev.data, x=x))) is None


def test_healthy_is_silent() -> None:
    assert ConstantInputs().judge(healthy()) is None
    assert ConstantInputs().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    ev = healthy()
    assert ev.data is not None
    found = ConstantInputs().judge(keras(replace(ev, data=replace(ev.data, x=np.zeros((300, 4))))))
    assert found is not None
    assert 'x.astype("float32") / 255.' in found.fix
    assert "model.fit" in found.fix
    assert_no_torch(found.fix)


def test_nearly_constant_inputs() -> None:
    from dataclasses import replace

    import numpy as np
    from factory import healthy

    from deadpan.checks.data.constant_inputs import ConstantInputs

    ev = healthy()
    assert ev.data is not None
    x = np.zeros((200, 8))
    x[:3, 2] = 1.0  # integer division by 255 kept only a few saturated pixels
    found = ConstantInputs().judge(replace(ev, data=replace(ev.data, x=x)))
    assert found is not None and found.evidence["dominant_row_share"] == 197 / 200
    assert found.evidence["all_zero"] is True
    # Many repeats of a few distinct rows that share the data evenly are not constant inputs.
    x = np.repeat(np.eye(8), 25, axis=0)
    assert ConstantInputs().judge(replace(ev, data=replace(ev.data, x=x))) is None
