from dataclasses import replace

from factory import healthy, regression_healthy

from deadpan.checks.train.loss_detached import LossDetached
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def _training(**kw: int) -> Evidence:
    ev = healthy()
    assert ev.training is not None
    return replace(ev, training=replace(ev.training, **kw))


def test_fires_on_backward_of_a_detached_loss() -> None:
    found = LossDetached().judge(_training(backward_on_detached=200, steps_without_grad=200))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP502", "train.loop", Severity.ERROR)
    assert found.strength >= 0.95
    assert ".item()" in found.fix and "backward()" in found.fix


def test_fires_when_no_step_ever_had_a_gradient() -> None:
    found = LossDetached().judge(_training(steps_without_grad=200))
    assert found is not None and found.strength >= 0.85


def test_silent_when_only_some_steps_lack_gradients() -> None:
    assert LossDetached().judge(_training(steps_without_grad=10)) is None


def test_silent_without_steps() -> None:
    assert LossDetached().judge(_training(steps=0, steps_without_grad=0)) is None


def test_silent_on_healthy() -> None:
    assert LossDetached().judge(healthy()) is None
    assert LossDetached().judge(regression_healthy()) is None
