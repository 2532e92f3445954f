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
