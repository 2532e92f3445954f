from dataclasses import replace

from factory import healthy, regression_healthy

from deadpan.checks.train.trained_in_eval_mode import TrainedInEvalMode
from deadpan.evidence import Evidence, LayerInfo
from deadpan.findings import Severity


def _eval_steps(count: int, mode_dependent: bool = True) -> Evidence:
    ev = healthy()
    assert ev.training is not None and ev.model is not None
    layers = (*ev.model.layers, LayerInfo("3", "BatchNorm1d", n_params=6), LayerInfo("4", "Dropout"))
    model = replace(ev.model, layers=layers, has_mode_dependent_layers=mode_dependent)
    return replace(ev, model=model, training=replace(ev.training, steps_in_eval_mode=count))


def test_fires_when_every_step_runs_in_eval_mode() -> None:
    found = TrainedInEvalMode().judge(_eval_steps(200))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP505", "train.loop", Severity.WARNING)
    assert 0.5 <= found.strength <= 0.7
    assert "model.train()" in found.fix
    assert "BatchNorm1d" in found.message


def test_silent_without_dropout_or_batch_norm() -> None:
    assert TrainedInEvalMode().judge(_eval_steps(200, mode_dependent=False)) is None


def test_silent_when_few_steps_are_in_eval_mode() -> None:
    assert TrainedInEvalMode().judge(_eval_steps(50)) is None


def test_silent_on_healthy() -> None:
    assert TrainedInEvalMode().judge(healthy()) is None
    assert TrainedInEvalMode().judge(regression_healthy()) is None
