from dataclasses import replace

import numpy as np
from factory import healthy, output_probe, regression_healthy

from deadpan.checks.data.no_learnable_signal import NoLearnableSignal
from deadpan.evidence import Evidence, LearnabilityProbe
from deadpan.findings import Severity


def with_learnability(
    linear: float, nonlinear: float, permuted: float = 0.33, n_samples: int = 3000
) -> Evidence:
    # Large enough that the fixed gaps, not the sampling noise, set the bar (see the small-sample test).
    ev = healthy()
    probe = LearnabilityProbe("balanced_accuracy", linear, nonlinear, permuted, 1 / 3, n_samples)
    return replace(ev, probes=replace(ev.probes, learnability=probe))


def test_no_signal_is_found() -> None:
    found = NoLearnableSignal().judge(with_learnability(0.34, 0.335))
    assert found is not None
    assert found.code == "DP102"
    assert found.category == "data.no_signal"
    assert found.severity is Severity.ERROR
    assert found.strength == 0.85
    assert "paired" in found.fix


def test_small_gap_is_weaker() -> None:
    found = NoLearnableSignal().judge(with_learnability(0.36, 0.355))  # gap ~0.045
    assert found is not None
    assert found.severity is Severity.ERROR
    assert 0.6 <= found.strength < 0.85


def test_weak_signal_is_a_warning() -> None:
    found = NoLearnableSignal().judge(with_learnability(0.38, 0.37))  # gap ~0.07
    assert found is not None
    assert found.severity is Severity.WARNING


def test_clear_signal_is_silent() -> None:
    assert NoLearnableSignal().judge(with_learnability(0.45, 0.5)) is None


def test_single_target_value_left_to_dp103() -> None:
    ev = with_learnability(0.34, 0.34)
    assert ev.data is not None
    ev = replace(ev, data=replace(ev.data, y=np.zeros(300, int)))
    assert NoLearnableSignal().judge(ev) is None


def test_healthy_is_silent() -> None:
    assert NoLearnableSignal().judge(healthy()) is None
    assert NoLearnableSignal().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    found = NoLearnableSignal().judge(keras(with_learnability(0.34, 0.335)))
    assert found is not None
    assert "np.random.permutation" in found.fix
    assert "model.fit(x, y, shuffle=True)" in found.fix
    assert_no_torch(found.fix)


def test_small_sample_noise_is_not_signal() -> None:
    # 80 random-label samples: a lucky CV split gives the best model 0.61 vs 0.49 permuted (gap 0.25), within
    # the sampling noise of 80 samples (noise gap 0.32); 800 samples with the same gap are signal.
    small = LearnabilityProbe("balanced_accuracy", 0.41, 0.614, 0.487, 0.5, n_samples=80)
    ev = healthy()
    ev = replace(ev, probes=replace(ev.probes, learnability=small))
    found = NoLearnableSignal().judge(ev)
    assert found is not None and found.category == "data.no_signal"
    assert found.evidence["noise_gap"] > 0.3
    large = replace(small, n_samples=800)
    assert NoLearnableSignal().judge(replace(ev, probes=replace(ev.probes, learnability=large))) is None


def test_multilabel_no_signal_is_found() -> None:
    # Mean per-label balanced accuracy of 5 labels, shuffled apart from the inputs (multilabel-mlp's
    # shuffle-inputs-apart): no better than on permuted label rows.
    probe = LearnabilityProbe("balanced_accuracy", 0.504, 0.514, 0.51, 0.5, n_samples=800, labels=5)
    ev = healthy()
    found = NoLearnableSignal().judge(replace(ev, probes=replace(ev.probes, learnability=probe)))
    assert found is not None and found.category == "data.no_signal"
    assert "over 5 labels" in found.message
    assert found.evidence["labels"] == 5


def test_multilabel_signal_is_silent() -> None:
    # The healthy multi-label task: simple models reach 0.75 per label against 0.5 permuted.
    probe = LearnabilityProbe("balanced_accuracy", 0.752, 0.728, 0.505, 0.5, n_samples=800, labels=5)
    ev = healthy()
    assert NoLearnableSignal().judge(replace(ev, probes=replace(ev.probes, learnability=probe))) is None


def test_token_ids_read_as_counts_are_named() -> None:
    probe = LearnabilityProbe(
        "balanced_accuracy", 0.354, 0.344, 0.346, 1 / 3, n_samples=800, token_counts=True
    )
    ev = healthy()
    found = NoLearnableSignal().judge(replace(ev, probes=replace(ev.probes, learnability=probe)))
    assert found is not None and "bag-of-tokens" in found.message
    signal = replace(probe, linear_score=1.0, nonlinear_score=0.99)  # marker-gru's counts: plain signal
    assert NoLearnableSignal().judge(replace(ev, probes=replace(ev.probes, learnability=signal))) is None


def poor_model(ev: Evidence) -> Evidence:
    return replace(ev, probes=replace(ev.probes, train_output=output_probe(score=0.5)))


def test_low_ceiling_with_a_failing_model_is_found() -> None:
    # Signal (gap 0.25 of chance-to-perfect over the shuffled labels) but weak: the best simple model gets
    # 0.5 balanced accuracy on three classes, a quarter of the way to perfect, and the network fails too.
    found = NoLearnableSignal().judge(poor_model(with_learnability(0.5, 0.45)))
    assert found is not None
    assert found.severity is Severity.WARNING and found.strength >= 0.5
    assert found.evidence["normalized_ceiling"] == 0.25
    assert "weak signal" in found.message and "memorising the noise" in found.message
    assert "labels" in found.fix


def test_low_ceiling_with_a_good_model_is_silent() -> None:
    # The network does well where simple models do not (images, sequences): no reason to blame the data.
    assert NoLearnableSignal().judge(with_learnability(0.5, 0.45)) is None


def test_high_ceiling_is_silent_whatever_the_model() -> None:
    assert NoLearnableSignal().judge(poor_model(with_learnability(0.8, 0.75))) is None


def _minority_every(k: int) -> Evidence:
    ev = poor_model(with_learnability(0.5, 0.45))
    assert ev.data is not None
    return replace(ev, data=replace(ev.data, y=np.where(np.arange(len(ev.data.y)) % k == 0, 1, 0)))


def test_low_ceiling_on_extremely_imbalanced_data_is_left_to_dp101() -> None:
    # A class 24 times rarer than the other has a dozen examples: they drag a balanced score down by
    # themselves.
    assert NoLearnableSignal().judge(_minority_every(25)) is None


def test_low_ceiling_on_moderately_imbalanced_data_is_found() -> None:
    # 9:1: the probe's class-weighted models are not held back by the imbalance, the signal is weak.
    assert NoLearnableSignal().judge(_minority_every(10)) is not None


def test_low_ceiling_on_a_small_sample_is_left_to_the_overfitting_checks() -> None:
    # 200 samples: the simple models' score is held down by the sample size itself.
    ev = poor_model(with_learnability(0.5, 0.45, n_samples=200))
    found = NoLearnableSignal().judge(ev)
    assert found is None or found.strength < 0.5
