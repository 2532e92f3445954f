from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.train.heldout_gap import HeldoutGap
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def _heldout(
    score: float, train_score: float = 0.95, heldout_loss: tuple[float, ...] | None = None
) -> Evidence:
    ev = healthy()
    assert ev.training is not None
    probes = replace(
        ev.probes,
        train_output=output_probe(score=train_score),
        heldout_output=output_probe(n_samples=60, score=score),
    )
    training = ev.training if heldout_loss is None else replace(ev.training, heldout_loss=heldout_loss)
    return replace(ev, probes=probes, training=training)


def test_fires_on_a_large_train_heldout_gap() -> None:
    found = HeldoutGap().judge(_heldout(score=0.5))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP520", "train.overfit", Severity.WARNING)
    assert 0.6 <= found.strength <= 0.85
    assert "weight_decay" in found.fix and "nn.Dropout(0.3)" in found.fix
    assert found.evidence["gap"] > 0.25


def test_fires_on_rising_heldout_loss_with_a_smaller_gap() -> None:
    found = HeldoutGap().judge(_heldout(score=0.85, heldout_loss=(0.5, 0.3, 0.4, 0.6)))
    assert found is not None and 0.4 <= found.strength <= 0.6
    assert found.evidence["heldout_loss_end"] == 0.6


def test_silent_when_the_model_does_not_fit_its_training_data() -> None:
    # Poor on both: not overfitting, something else is wrong.
    assert HeldoutGap().judge(_heldout(score=0.4, train_score=0.6)) is None


def test_silent_on_a_small_gap() -> None:
    assert HeldoutGap().judge(_heldout(score=0.85)) is None
    assert HeldoutGap().judge(_heldout(score=0.93, heldout_loss=(0.5, 0.3, 0.4, 0.6))) is None


def test_silent_on_healthy() -> None:
    assert HeldoutGap().judge(healthy()) is None
    assert HeldoutGap().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    found = HeldoutGap().judge(keras(_heldout(score=0.5)))
    assert found is not None
    assert "layers.Dropout(0.3)" in found.fix
    assert "kernel_regularizer=keras.regularizers.l2(1e-4)" in found.fix
    assert "keras.callbacks.EarlyStopping(" in found.fix and "restore_best_weights=True" in found.fix
    assert_no_torch(found.fix)
