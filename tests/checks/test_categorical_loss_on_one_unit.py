from dataclasses import replace

from deadpan.checks.loss.categorical_loss_on_one_unit import CategoricalLossOnOneUnit
from deadpan.evidence import Evidence, Task
from deadpan.findings import Severity
from factory import healthy, regression_healthy


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
