from dataclasses import replace

import numpy as np
from factory import healthy, regression_healthy

from deadpan.checks.data.targets_out_of_range import TargetsOutOfRange
from deadpan.evidence import Evidence, Task
from deadpan.findings import Severity


def one_based() -> Evidence:
    ev = healthy()
    assert ev.data is not None and ev.loss is not None
    return replace(
        ev,
        data=replace(ev.data, y=ev.data.y + 1),
        loss=replace(ev.loss, target_min=1, target_max=3),
    )


def test_one_based_labels() -> None:
    found = TargetsOutOfRange().judge(one_based())
    assert found is not None
    assert found.code == "DP104"
    assert found.category == "data.labels"
    assert found.severity is Severity.ERROR
    assert found.strength == 0.9
    assert "y = y - 1" in found.fix
    assert found.evidence["n_output_units"] == 3


def test_negative_label() -> None:
    ev = healthy()
    assert ev.loss is not None
    found = TargetsOutOfRange().judge(replace(ev, loss=replace(ev.loss, target_min=-1)))
    assert found is not None
    assert found.code == "DP104"


def test_ignore_index_is_allowed() -> None:
    ev = healthy()
    assert ev.loss is not None
    assert TargetsOutOfRange().judge(replace(ev, loss=replace(ev.loss, target_min=-100))) is None


def test_class_dim_is_dim_one_for_segmentation() -> None:
    ev = healthy()
    assert ev.loss is not None and ev.data is not None
    ev = replace(
        ev,
        data=replace(ev.data, y=np.array([0, 1, 2, 4])),
        loss=replace(ev.loss, input_shape=(8, 5, 16, 16), target_shape=(8, 16, 16), target_max=4),
    )
    assert TargetsOutOfRange().judge(ev) is None


def test_bce_with_minus_one_labels() -> None:
    ev = healthy()
    assert ev.loss is not None and ev.data is not None
    y = np.where(np.arange(300) % 2 == 0, -1.0, 1.0).reshape(-1, 1)
    ev = replace(
        ev,
        task=Task(kind="binary", n_classes=2, n_outputs=1),
        data=replace(ev.data, y=y),
        loss=replace(
            ev.loss,
            function="binary_cross_entropy_with_logits",
            input_shape=(32, 1),
            target_shape=(32, 1),
            target_is_integer=False,
            target_min=-1.0,
            target_max=1.0,
        ),
    )
    found = TargetsOutOfRange().judge(ev)
    assert found is not None
    assert found.code == "DP104"
    assert "(y + 1) / 2" in found.fix


def test_bce_in_range_is_silent() -> None:
    ev = healthy()
    assert ev.loss is not None and ev.data is not None
    ev = replace(
        ev,
        data=replace(ev.data, y=(np.arange(300) % 2).astype(float)),
        loss=replace(ev.loss, function="binary_cross_entropy", target_is_integer=False, target_max=1.0),
    )
    assert TargetsOutOfRange().judge(ev) is None


def test_healthy_is_silent() -> None:
    assert TargetsOutOfRange().judge(healthy()) is None
    assert TargetsOutOfRange().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def sparse_keras(target_max: float, input_shape: tuple[int, ...] = (32, 3)) -> Evidence:
    """Keras ``sparse_categorical_crossentropy`` on softmax outputs (``cross_entropy_probs``)."""
    ev = keras(healthy())
    assert ev.data is not None and ev.loss is not None
    return replace(
        ev,
        data=replace(ev.data, y=np.minimum(ev.data.y * 3, target_max)),
        loss=replace(
            ev.loss,
            function="cross_entropy_probs",
            name="sparse_categorical_crossentropy",
            from_logits=False,
            input_shape=input_shape,
            target_max=target_max,
        ),
    )


def test_keras_sparse_labels_past_the_units() -> None:
    found = TargetsOutOfRange().judge(sparse_keras(5))
    assert found is not None
    assert found.code == "DP104"
    assert "`sparse_categorical_crossentropy` gets class ids in [0, 5]" in found.message
    assert 'layers.Dense(6, activation="softmax")' in found.fix
    assert_no_torch(found.message + found.fix)


def test_keras_class_axis_is_last() -> None:
    # channels-last segmentation output [N, H, W, C]: 3 classes, not 16
    found = TargetsOutOfRange().judge(sparse_keras(3, input_shape=(8, 16, 16, 3)))
    assert found is not None
    assert found.evidence["n_output_units"] == 3
    assert TargetsOutOfRange().judge(sparse_keras(2, input_shape=(8, 16, 16, 3))) is None


def test_keras_negative_label_suggests_ignore_class() -> None:
    ev = sparse_keras(2)
    assert ev.loss is not None
    found = TargetsOutOfRange().judge(replace(ev, loss=replace(ev.loss, target_min=-1)))
    assert found is not None
    assert "ignore_class=-1" in found.fix
    assert_no_torch(found.fix)


def test_keras_binary_targets_outside_unit_interval() -> None:
    ev = keras(healthy())
    assert ev.data is not None and ev.loss is not None
    y = np.where(np.arange(300) % 2 == 0, 1.0, 255.0).reshape(-1, 1)
    ev = replace(
        ev,
        task=Task(kind="binary", n_classes=2, n_outputs=1),
        data=replace(ev.data, y=y),
        loss=replace(
            ev.loss,
            function="binary_cross_entropy",
            name="binary_crossentropy",
            from_logits=False,
            input_shape=(32, 1),
            target_shape=(32, 1),
            target_is_integer=False,
            target_min=1.0,
            target_max=255.0,
        ),
    )
    found = TargetsOutOfRange().judge(ev)
    assert found is not None
    assert "`binary_crossentropy` expects targets in [0, 1]" in found.message
    assert '.astype("float32")' in found.fix
    assert_no_torch(found.message + found.fix)
