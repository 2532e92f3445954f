from dataclasses import replace

from factory import healthy, regression_healthy

from deadpan.checks.train.zero_grad_missing import ZeroGradMissing
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def _loop(steps: int = 200, zero_grad_calls: int = 200, uncleared: int = 0) -> Evidence:
    ev = healthy()
    assert ev.training is not None
    training = replace(
        ev.training,
        steps=steps,
        backward_calls=steps,
        zero_grad_calls=zero_grad_calls,
        steps_without_zero_grad=uncleared,
    )
    return replace(ev, training=training)


def test_fires_when_zero_grad_is_never_called() -> None:
    found = ZeroGradMissing().judge(_loop(zero_grad_calls=0, uncleared=199))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP501", "train.loop", Severity.ERROR)
    assert found.strength >= 0.9
    assert "optimizer.zero_grad()" in found.fix


def test_fires_when_almost_no_step_clears_the_gradients() -> None:
    found = ZeroGradMissing().judge(_loop(zero_grad_calls=5, uncleared=195))
    assert found is not None and found.evidence["uncleared_fraction"] >= 0.9


def test_silent_on_gradient_accumulation() -> None:
    # zero_grad once every 4 steps: 3 of every 4 steps keep the previous gradients, on purpose.
    assert ZeroGradMissing().judge(_loop(zero_grad_calls=50, uncleared=150)) is None


def test_silent_on_too_few_steps() -> None:
    assert ZeroGradMissing().judge(_loop(steps=2, zero_grad_calls=0, uncleared=2)) is None


def test_silent_on_healthy() -> None:
    assert ZeroGradMissing().judge(healthy()) is None
    assert ZeroGradMissing().judge(regression_healthy()) is None
