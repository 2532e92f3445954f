from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.optim.weights_barely_move import WeightsBarelyMove
from deadpan.evidence import Evidence, OptimizerInfo
from deadpan.findings import Severity


def _stuck(ev: Evidence, lr: float = 1e-6, suggested: float | None = 3e-3, drop: float = 0.02) -> Evidence:
    """Tiny updates, a loss that fell by ``drop``, and a model near chance."""
    assert ev.training is not None and ev.probes.lr_range is not None
    loss = tuple(1.1 * (1 - drop * i / 19) for i in range(20))
    training = replace(
        ev.training, optimizer=OptimizerInfo("Adam", lr=lr), update_ratio=(1e-7,) * 20, loss=loss
    )
    probe = output_probe(score=0.36, majority_share=0.9, output_spread_ratio=0.3)
    lr_range = replace(ev.probes.lr_range, suggested_lr=suggested, user_lr=lr)
    return replace(ev, training=training, probes=replace(ev.probes, train_output=probe, lr_range=lr_range))


def test_fires_on_tiny_updates() -> None:
    found = WeightsBarelyMove().judge(_stuck(healthy()))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP402", "optim.lr_too_low", Severity.ERROR)
    assert 0.7 <= found.strength <= 0.8
    assert "torch.optim.Adam(model.parameters(), lr=0.003)" in found.fix


def test_fires_without_an_lr_range_test() -> None:
    ev = _stuck(healthy())
    found = WeightsBarelyMove().judge(replace(ev, probes=replace(ev.probes, lr_range=None)))
    assert found is not None and found.strength == 0.6 and "lr=3e-05" in found.fix


def test_silent_when_the_lr_range_test_finds_no_better_lr() -> None:
    assert WeightsBarelyMove().judge(_stuck(healthy(), suggested=1e-5)) is None


def test_silent_when_the_loss_fell() -> None:
    assert WeightsBarelyMove().judge(_stuck(healthy(), drop=0.5)) is None


def test_silent_when_no_gradient_flows() -> None:
    ev = _stuck(healthy())
    assert ev.training is not None
    assert (
        WeightsBarelyMove().judge(replace(ev, training=replace(ev.training, grad_norm=(0.0,) * 20))) is None
    )


def test_silent_when_the_model_is_fine() -> None:
    ev = _stuck(healthy())
    assert (
        WeightsBarelyMove().judge(replace(ev, probes=replace(ev.probes, train_output=output_probe()))) is None
    )


def test_silent_on_healthy() -> None:
    assert WeightsBarelyMove().judge(healthy()) is None
    assert WeightsBarelyMove().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    found = WeightsBarelyMove().judge(keras(_stuck(healthy())))
    assert found is not None
    assert "model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), ...)" in found.fix
    assert_no_torch(found.fix)
