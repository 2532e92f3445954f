from dataclasses import replace

from factory import healthy, regression_healthy, weights

from deadpan.checks.train.no_optimizer_step import NoOptimizerStep
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def _no_steps() -> Evidence:
    ev = healthy()
    assert ev.training is not None
    return replace(ev, training=replace(ev.training, steps=0, zero_grad_calls=0))


def test_fires_when_backward_runs_but_step_never_does() -> None:
    found = NoOptimizerStep().judge(_no_steps())
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP506", "train.loop", Severity.ERROR)
    assert found.strength >= 0.95
    assert "optimizer.step()" in found.fix


def test_silent_when_the_weights_moved_anyway() -> None:
    # A hand-written update (`p.data -= lr * p.grad`) that deadpan did not see as an optimizer step.
    ev = _no_steps()
    assert ev.model is not None
    moved = replace(ev.model, final_weights=(weights("0", 4, 32, std=0.9), weights("2", 32, 3)))
    assert NoOptimizerStep().judge(replace(ev, model=moved)) is None


def test_silent_without_backward() -> None:
    ev = _no_steps()
    assert ev.training is not None
    assert NoOptimizerStep().judge(replace(ev, training=replace(ev.training, backward_calls=0))) is None


def test_silent_on_healthy() -> None:
    assert NoOptimizerStep().judge(healthy()) is None
    assert NoOptimizerStep().judge(regression_healthy()) is None
