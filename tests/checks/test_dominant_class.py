from dataclasses import replace

import numpy as np
from factory import healthy, output_probe, regression_healthy

from deadpan.checks.data.dominant_class import DominantClass, dominance_threshold
from deadpan.evidence import Evidence, LossCall, Task
from deadpan.findings import Severity


def imbalanced(
    share: float = 0.9, predicted_share: float = 0.98, score: float = 1 / 3, simple_model: float = 0.45
) -> Evidence:
    """``share`` of the targets in class 0 of 3, the model predicting class 0 for ``predicted_share`` of the
    inputs, and class-weighted simple models reaching balanced accuracy ``simple_model`` (weak signal by
    default: the classic imbalance collapse)."""
    ev = healthy()
    assert ev.data is not None and ev.probes.learnability is not None
    learn = replace(ev.probes.learnability, linear_score=simple_model, nonlinear_score=simple_model)
    n = 300
    n_major = int(share * n)
    y = np.concatenate([np.zeros(n_major, int), np.arange(n - n_major) % 2 + 1])
    return replace(
        ev,
        data=replace(ev.data, y=y),
        probes=replace(
            ev.probes,
            train_output=output_probe(
                distinct_predictions=2, majority_share=predicted_share, predicted_majority=0, score=score
            ),
            learnability=learn,
        ),
    )


def test_dominant_class_collapsed_onto_majority() -> None:
    found = DominantClass().judge(imbalanced())
    assert found is not None
    assert found.code == "DP101"
    assert found.category == "data.imbalance"
    assert found.severity is Severity.ERROR
    assert 0.7 <= found.strength <= 0.85
    assert found.evidence["dominant_class"] == 0
    assert "weight=torch.tensor([" in found.fix
    assert "WeightedRandomSampler" in found.fix


def test_weighted_loss_lowers_strength() -> None:
    ev = imbalanced()
    assert ev.loss is not None
    ev = replace(ev, loss=replace(ev.loss, has_class_weights=True))
    found = DominantClass().judge(ev)
    assert found is not None
    assert found.severity is Severity.WARNING
    assert found.strength < 0.5


def test_binary_bce_with_logits_suggests_pos_weight() -> None:
    ev = healthy()
    assert ev.data is not None and ev.loss is not None
    y = np.r_[np.zeros(270), np.ones(30)].reshape(-1, 1)
    ev = replace(
        ev,
        task=Task(kind="binary", n_classes=2, n_outputs=1),
        data=replace(ev.data, y=y),
        loss=LossCall(
            function="binary_cross_entropy_with_logits",
            input_shape=(32, 1),
            target_shape=(32, 1),
            target_is_integer=False,
            input_min=-3.0,
            input_max=-2.0,
            input_rows_are_probabilities=False,
            target_min=0.0,
            target_max=1.0,
        ),
        probes=replace(
            ev.probes,
            train_output=output_probe(
                distinct_predictions=1, majority_share=1.0, predicted_majority=0, score=0.5, chance_score=0.5
            ),
        ),
    )
    found = DominantClass().judge(ev)
    assert found is not None
    assert "pos_weight=torch.tensor([9])" in found.fix


def test_imbalanced_but_well_predicted_is_silent() -> None:
    assert DominantClass().judge(imbalanced(predicted_share=0.88, score=0.9)) is None


def test_mild_imbalance_is_silent() -> None:
    assert DominantClass().judge(imbalanced(share=0.6)) is None


def test_threshold_for_many_classes() -> None:
    assert dominance_threshold(2) == 0.75
    assert dominance_threshold(5) == 0.6
    assert dominance_threshold(100) == 0.5


def test_healthy_is_silent() -> None:
    assert DominantClass().judge(healthy()) is None
    assert DominantClass().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_uses_class_weight() -> None:
    found = DominantClass().judge(keras(imbalanced()))
    assert found is not None
    assert "model.fit(..., class_weight={0: 0.37, 1: 6.67, 2: 6.67})" in found.fix
    assert_no_torch(found.fix)
    assert "WeightedRandomSampler" not in found.fix


def test_keras_binary_and_already_weighted() -> None:
    ev = keras(imbalanced())
    assert ev.data is not None and ev.loss is not None
    y = np.r_[np.zeros(270), np.ones(30)].reshape(-1, 1)
    ev = replace(
        ev,
        task=Task(kind="binary", n_classes=2, n_outputs=1),
        data=replace(ev.data, y=y),
        loss=replace(
            ev.loss, function="binary_cross_entropy", name="binary_crossentropy", has_class_weights=True
        ),
    )
    found = DominantClass().judge(ev)
    assert found is not None
    assert "class_weight={0: 0.556, 1: 5}" in found.fix
    assert "already weighted (`class_weight`/`sample_weight`)" in found.fix
    assert_no_torch(found.fix)


def test_good_classifier_on_imbalanced_data_is_silent() -> None:
    # 90% majority; the model predicts it for 92% of inputs (about the share the data holds) and separates
    # the classes well above chance: it does not pile on the majority.
    assert DominantClass().judge(imbalanced(share=0.9, predicted_share=0.92, score=0.7)) is None
    # The same prediction share with a score near chance is the collapse the check is for.
    assert DominantClass().judge(imbalanced(share=0.9, predicted_share=0.96, score=0.4)) is not None


def test_moderate_imbalance_on_separable_data_is_a_weak_warning() -> None:
    # 90% majority, but class-weighted simple models reach balanced accuracy 0.9 (chance 1/3): networks learn
    # such data without weights, so the collapse more likely has another cause; the finding stays, weaker.
    found = DominantClass().judge(imbalanced(simple_model=0.9))
    assert found is not None
    assert found.severity is Severity.WARNING and found.strength < 0.5
    assert found.evidence["simple_model_balanced_accuracy"] == 0.9
    assert "look first at the other findings" in found.message
    assert "weight=torch.tensor([" in found.fix


def test_extreme_imbalance_stays_an_error_on_separable_data() -> None:
    found = DominantClass().judge(imbalanced(share=0.97, predicted_share=1.0, simple_model=0.9))
    assert found is not None and found.severity is Severity.ERROR and found.strength >= 0.7


def test_without_a_learnability_probe_the_imbalance_stays_an_error() -> None:
    ev = imbalanced(simple_model=0.9)
    found = DominantClass().judge(replace(ev, probes=replace(ev.probes, learnability=None)))
    assert found is not None and found.severity is Severity.ERROR


def test_many_classes_with_a_starved_class_stay_an_error_on_separable_data() -> None:
    # Ten classes, the largest 72% of the data and 70 times the rarest: extreme, however separable.
    ev = imbalanced(simple_model=0.9)
    assert ev.data is not None and ev.task is not None
    rest = np.repeat(np.arange(1, 10), [60, 40, 40, 40, 30, 20, 20, 20, 10])
    y = np.concatenate([np.zeros(700, int), rest])
    ev = replace(ev, data=replace(ev.data, y=y), task=replace(ev.task, n_classes=10, n_outputs=10))
    found = DominantClass().judge(ev)
    assert found is not None and found.severity is Severity.ERROR


def favouring(recall: tuple[float, ...], score: float = 0.55) -> Evidence:
    """90% in class 0 (weak signal: the simple models reach 0.45), the model predicting class 0 for 90% of the
    inputs, as often as the data holds it (not piling on it), with per-class ``recall``."""
    ev = imbalanced(share=0.9, predicted_share=0.9, score=score)
    assert ev.probes.train_output is not None
    probe = replace(ev.probes.train_output, class_recall=recall)
    return replace(ev, probes=replace(ev.probes, train_output=probe))


def test_a_model_favouring_the_majority_is_found() -> None:
    found = DominantClass().judge(favouring((1.0, 0.4, 0.3)))
    assert found is not None
    assert found.severity is Severity.WARNING and found.strength == 0.6
    assert "recall 1.00 on it, 0.35 on average on the other classes" in found.message


def test_even_recall_or_a_good_model_is_silent() -> None:
    assert DominantClass().judge(favouring((0.9, 0.8, 0.75))) is None
    assert DominantClass().judge(favouring((1.0, 0.4, 0.3), score=0.95)) is None
