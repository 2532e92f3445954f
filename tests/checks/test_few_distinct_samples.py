from dataclasses import replace

import numpy as np
from factory import healthy, output_probe, regression_healthy

from deadpan.checks.data.few_distinct_samples import FewDistinctSamples
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def repeated(distinct: int = 5, score: float = 0.4) -> Evidence:
    ev = healthy()
    assert ev.data is not None
    idx = np.arange(300) % distinct
    probe = output_probe(score=score, majority_share=0.6)
    return replace(
        ev,
        data=replace(ev.data, x=ev.data.x[idx], y=ev.data.y[idx]),
        probes=replace(ev.probes, train_output=probe, heldout_output=probe),
    )


def test_few_distinct_inputs() -> None:
    found = FewDistinctSamples().judge(repeated())
    assert found is not None
    assert found.code == "DP115"
    assert found.category == "data.diversity"
    assert found.severity is Severity.ERROR
    assert found.evidence["distinct_samples"] == 5


def test_one_repeated_batch_left_to_loop_check() -> None:
    ev = repeated()
    assert ev.data is not None
    assert FewDistinctSamples().judge(replace(ev, data=replace(ev.data, distinct_batches=1))) is None


def test_few_distinct_but_model_fine_is_silent() -> None:
    assert FewDistinctSamples().judge(repeated(score=0.95)) is None


def test_enough_distinct_is_silent() -> None:
    assert FewDistinctSamples().judge(repeated(distinct=60)) is None


def test_healthy_is_silent() -> None:
    assert FewDistinctSamples().judge(healthy()) is None
    assert FewDistinctSamples().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    found = FewDistinctSamples().judge(keras(repeated()))
    assert found is not None
    assert "layers.RandomFlip" in found.fix
    assert "model.fit" in found.fix
    assert_no_torch(found.fix)
    assert "transforms." not in found.fix


def whole_small_set(dataset_size: int | None) -> Evidence:
    """Keras' ``fit`` on 15 examples of 3 classes, every row once in the sample: fits them, not new inputs."""
    ev = keras(healthy())
    assert ev.data is not None
    return replace(
        ev,
        data=replace(ev.data, x=ev.data.x[:15], y=ev.data.y[:15], dataset_size=dataset_size),
        probes=replace(
            ev.probes,
            train_output=output_probe(score=1.0),
            heldout_output=output_probe(score=0.6),
        ),
    )


def test_whole_small_training_set_is_found() -> None:
    found = FewDistinctSamples().judge(whole_small_set(dataset_size=15))
    assert found is not None
    assert found.evidence["distinct_samples"] == 15
    assert "training set holds only 15 examples" in found.message


def test_unrepeated_sample_of_unknown_size_is_silent() -> None:
    # Without the data set's size, 15 rows seen once may be a slice of a large data set.
    assert FewDistinctSamples().judge(whole_small_set(dataset_size=None)) is None


def test_a_class_with_a_handful_of_examples_is_found() -> None:
    # 60 distinct examples over 3 classes (20 per class on average, enough), but class 2 holds only 4, each
    # repeated over the epochs: that class cannot be learnt.
    ev = healthy()
    assert ev.data is not None
    base = np.concatenate([np.flatnonzero(ev.data.y == 0)[:28], np.flatnonzero(ev.data.y == 1)[:28]])
    idx = np.concatenate([base, np.flatnonzero(ev.data.y == 2)[:4]])
    idx = np.tile(idx, 5)
    probe = output_probe(score=0.4, majority_share=0.6)
    ev = replace(
        ev,
        data=replace(ev.data, x=ev.data.x[idx], y=ev.data.y[idx]),
        probes=replace(ev.probes, train_output=probe, heldout_output=probe),
    )
    found = FewDistinctSamples().judge(ev)
    assert found is not None
    assert found.evidence["rarest_class"] == {"class": 2, "distinct_samples": 4}
    assert "class 2 only 4" in found.message


def test_a_class_starved_by_an_imbalance_is_left_to_dp101() -> None:
    # Class 2 holds 4 examples next to 140 of class 0 (35:1): an imbalance, not a small data set.
    ev = healthy()
    assert ev.data is not None
    rng = np.random.default_rng(0)
    x = rng.normal(size=(184, 4))
    y = np.concatenate([np.zeros(140, int), np.ones(40, int), np.full(4, 2)])
    idx = np.tile(np.arange(184), 3)
    probe = output_probe(score=0.4, majority_share=0.8)
    ev = replace(
        ev,
        data=replace(ev.data, x=x[idx], y=y[idx]),
        probes=replace(ev.probes, train_output=probe, heldout_output=probe),
    )
    assert FewDistinctSamples().judge(ev) is None
