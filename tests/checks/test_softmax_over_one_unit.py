from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.model.softmax_over_one_unit import SoftmaxOverOneUnit
from deadpan.evidence import Evidence, LayerInfo, Task
from deadpan.findings import Severity


def one_unit(last: LayerInfo | None, rows_sum_to_one: bool = True) -> Evidence:
    ev = healthy()
    assert ev.model is not None
    layers = (
        LayerInfo("0", "Linear", units=32, n_params=160),
        LayerInfo("1", "ReLU", activation="relu"),
        LayerInfo("2", "Linear", units=1, n_params=33),
    ) + ((last,) if last is not None else ())
    probe = output_probe(
        distinct_predictions=1,
        majority_share=1.0,
        output_spread_ratio=0.0,
        score=0.5,
        chance_score=0.5,
        rows_sum_to_one=rows_sum_to_one,
        n_outputs=1,
    )
    return replace(
        ev,
        task=Task(kind="binary", n_classes=2, n_outputs=1),
        model=replace(ev.model, layers=layers),
        probes=replace(ev.probes, train_output=probe),
    )


def test_softmax_layer_over_one_unit() -> None:
    found = SoftmaxOverOneUnit().judge(one_unit(LayerInfo("3", "Softmax", activation="softmax")))
    assert found is not None
    assert found.code == "DP210"
    assert found.category == "model.output"
    assert found.severity is Severity.ERROR
    assert found.strength == 0.95
    assert "BCEWithLogitsLoss" in found.fix


def test_log_softmax_says_zero() -> None:
    found = SoftmaxOverOneUnit().judge(
        one_unit(LayerInfo("3", "LogSoftmax", activation="log_softmax"), rows_sum_to_one=False)
    )
    assert found is not None
    assert "exactly 0" in found.message


def test_outputs_alone_show_it() -> None:
    found = SoftmaxOverOneUnit().judge(one_unit(None))
    assert found is not None
    assert found.code == "DP210"


def test_saturated_sigmoid_is_not_a_softmax() -> None:
    assert SoftmaxOverOneUnit().judge(one_unit(LayerInfo("3", "Sigmoid", activation="sigmoid"))) is None


def test_softmax_over_several_units_is_silent() -> None:
    ev = healthy()
    assert ev.model is not None
    layers = (*ev.model.layers, LayerInfo("3", "Softmax", activation="softmax"))
    ev = replace(ev, model=replace(ev.model, layers=layers))
    assert SoftmaxOverOneUnit().judge(ev) is None


def test_healthy_is_silent() -> None:
    assert SoftmaxOverOneUnit().judge(healthy()) is None
    assert SoftmaxOverOneUnit().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_dense_with_softmax_activation() -> None:
    ev = one_unit(None)
    assert ev.model is not None
    layers = (
        LayerInfo("dense", "Dense", units=32, n_params=160),
        LayerInfo("dense/relu", "Activation", activation="relu"),
        LayerInfo("dense_1", "Dense", units=1, n_params=33),
        LayerInfo("dense_1/softmax", "Activation", activation="softmax"),
    )
    found = SoftmaxOverOneUnit().judge(keras(replace(ev, model=replace(ev.model, layers=layers))))
    assert found is not None
    assert found.strength == 0.95
    assert '`dense_1` (`activation="softmax"`)' in found.message
    assert 'layers.Dense(1, activation="sigmoid")' in found.fix
    assert 'loss="binary_crossentropy"' in found.fix
    assert 'layers.Dense(2, activation="softmax")' in found.fix
    assert "sparse_categorical_crossentropy" in found.fix
    assert_no_torch(found.message + found.fix)
