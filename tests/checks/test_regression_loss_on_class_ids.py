from dataclasses import replace

import numpy as np
from factory import healthy, output_probe, regression_healthy

from deadpan.checks.loss.regression_loss_on_class_ids import RegressionLossOnClassIds
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def _class_ids(ev: Evidence, classes: int = 5, score: float = 0.05, units: int = 1) -> Evidence:
    """MSE on integer targets 0..classes-1, and a model that scores poorly (R^2 ``score``)."""
    assert ev.data is not None and ev.loss is not None
    y = (np.arange(300) % classes).astype(float)
    loss = replace(
        ev.loss, target_is_integer=True, target_min=0.0, target_max=classes - 1.0, input_shape=(32, units)
    )
    probe = output_probe(
        predicted_majority=None, score=score, chance_score=0.0, output_spread_ratio=0.3, n_outputs=1
    )
    return replace(
        ev,
        data=replace(ev.data, y=y),
        loss=loss,
        probes=replace(ev.probes, train_output=probe, heldout_output=None),
    )


def test_fires_on_mse_over_class_ids() -> None:
    found = RegressionLossOnClassIds().judge(_class_ids(regression_healthy()))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP305", "loss.mismatch", Severity.ERROR)
    assert 0.55 <= found.strength <= 0.65
    assert "CrossEntropyLoss" in found.fix and "nn.Linear(hidden, 5)" in found.fix
    assert found.evidence["distinct_targets"] == 5


def test_stronger_with_one_unit_per_class() -> None:
    found = RegressionLossOnClassIds().judge(_class_ids(regression_healthy(), units=5))
    assert found is not None and found.strength >= 0.7


def test_silent_when_integer_targets_are_fitted_well() -> None:
    # An ordinal target (a 1..5 rating) that the regression actually learns is a legitimate regression.
    assert RegressionLossOnClassIds().judge(_class_ids(regression_healthy(), score=0.85)) is None


def _measured(ev: Evidence, classifier: float, rounded: float) -> Evidence:
    """Add what the probes measure: simple classifiers on the ids as classes, the rounded outputs."""
    assert ev.probes.train_output is not None and ev.probes.learnability is not None
    learn = replace(ev.probes.learnability, class_id_score=classifier)
    out = replace(ev.probes.train_output, rounded_score=rounded)
    return replace(ev, probes=replace(ev.probes, learnability=learn, train_output=out))


def test_fires_when_classifiers_beat_the_rounded_outputs() -> None:
    # R^2 0.85 is no symptom, but read as classes the outputs are far behind what a classifier reaches.
    ev = _measured(_class_ids(regression_healthy(), score=0.85), classifier=0.94, rounded=0.34)
    found = RegressionLossOnClassIds().judge(ev)
    assert found is not None and found.strength >= 0.9 and found.severity is Severity.ERROR
    assert found.evidence["classifier_score"] == 0.94 and found.evidence["rounded_score"] == 0.34
    assert "0.34" in found.message and "0.94" in found.message


def test_silent_when_rounding_does_as_well_as_classifiers() -> None:
    # An ordinal target: rounding a good regression beats a classifier that ignores the order.
    ev = _measured(_class_ids(regression_healthy(), score=0.85), classifier=0.59, rounded=0.78)
    assert RegressionLossOnClassIds().judge(ev) is None
    ev = _measured(_class_ids(regression_healthy(), score=0.85), classifier=0.80, rounded=0.60)
    assert RegressionLossOnClassIds().judge(ev) is None  # a gap below 0.3


def test_silent_on_two_values_and_on_counts() -> None:
    assert RegressionLossOnClassIds().judge(_class_ids(regression_healthy(), classes=2)) is None
    assert RegressionLossOnClassIds().judge(_class_ids(regression_healthy(), classes=200)) is None


def test_silent_on_healthy() -> None:
    assert RegressionLossOnClassIds().judge(healthy()) is None
    assert RegressionLossOnClassIds().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    ev = keras(_class_ids(regression_healthy()))
    assert ev.loss is not None
    ev = replace(ev, loss=replace(ev.loss, name="mean_squared_error"))
    found = RegressionLossOnClassIds().judge(ev)
    assert found is not None
    assert "`mean_squared_error`" in found.message
    assert 'layers.Dense(5, activation="softmax")' in found.fix
    assert 'loss="sparse_categorical_crossentropy"' in found.fix
    assert_no_torch(found.message + found.fix)
