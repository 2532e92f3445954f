from dataclasses import replace

from factory import healthy, regression_healthy

from deadpan.checks.loss.categorical_loss_on_one_unit import CategoricalLossOnOneUnit
from deadpan.evidence import Evidence, Task
from deadpan.findings import Severity


def _one_unit(ev: Evidence, function: str = "cross_entropy") -> Evidence:
    assert ev.loss is not None
    return replace(ev, loss=replace(ev.loss, function=function, input_shape=(32, 1)))


def test_fires_on_cross_entropy_over_one_unit() -> None:
    found = CategoricalLossOnOneUnit().judge(_one_unit(healthy()))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP303", "loss.mismatch", Severity.ERROR)
    assert found.strength >= 0.9
    assert "BCEWithLogitsLoss" in found.fix
    assert "nn.Linear(hidden, 3)" in found.fix  # three classes in the task


def test_fires_on_nll_loss_for_a_binary_task() -> None:
    ev = replace(_one_unit(healthy(), "nll_loss"), task=Task(kind="binary", n_classes=2, n_outputs=1))
    found = CategoricalLossOnOneUnit().judge(ev)
    assert found is not None and "NLLLoss" in found.message and "BCEWithLogitsLoss" in found.fix


def test_class_axis_is_dim_one_for_images() -> None:
    ev = healthy()
    assert ev.loss is not None
    # Segmentation logits [N, C, H, W] with W = 1: five classes on dim 1, not a one-unit output.
    assert (
        CategoricalLossOnOneUnit().judge(replace(ev, loss=replace(ev.loss, input_shape=(8, 5, 16, 1))))
        is None
    )


def test_silent_on_healthy() -> None:
    assert CategoricalLossOnOneUnit().judge(healthy()) is None
    assert CategoricalLossOnOneUnit().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def _keras_one_unit(from_logits: bool, name: str = "categorical_crossentropy") -> Evidence:
    ev = keras(healthy())
    assert ev.loss is not None
    function = "cross_entropy" if from_logits else "cross_entropy_probs"
    loss = replace(ev.loss, function=function, name=name, from_logits=from_logits, input_shape=(32, 1))
    return replace(ev, loss=loss)


def test_keras_categorical_crossentropy_of_probabilities_over_one_unit() -> None:
    found = CategoricalLossOnOneUnit().judge(_keras_one_unit(from_logits=False))
    assert found is not None
    assert found.code == "DP303"
    assert "`categorical_crossentropy`" in found.message and "the loss is 0" in found.message
    assert 'layers.Dense(1, activation="sigmoid")' in found.fix
    assert 'loss="binary_crossentropy"' in found.fix
    assert 'layers.Dense(3, activation="softmax")' in found.fix
    assert_no_torch(found.message + found.fix)


def test_keras_from_logits_over_one_unit() -> None:
    found = CategoricalLossOnOneUnit().judge(
        _keras_one_unit(from_logits=True, name="sparse_categorical_crossentropy")
    )
    assert found is not None
    assert "`sparse_categorical_crossentropy`" in found.message
    assert "`layers.Dense(3)`" in found.fix
    assert_no_torch(found.message + found.fix)


def test_keras_class_axis_is_last() -> None:
    ev = _keras_one_unit(from_logits=False)
    assert ev.loss is not None
    # channels-last [N, H, W, C] with five classes; a width of 1 is not the class axis
    assert (
        CategoricalLossOnOneUnit().judge(replace(ev, loss=replace(ev.loss, input_shape=(8, 16, 1, 5))))
        is None
    )
    found = CategoricalLossOnOneUnit().judge(replace(ev, loss=replace(ev.loss, input_shape=(8, 5, 16, 1))))
    assert found is not None
