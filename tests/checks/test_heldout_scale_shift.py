from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.data.heldout_scale_shift import HeldoutScaleShift
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def shifted(factor: float = 255.0) -> Evidence:
    ev = healthy()
    assert ev.data is not None
    collapsed = output_probe(n_samples=60, distinct_predictions=1, majority_share=1.0, score=1 / 3)
    return replace(
        ev,
        data=replace(ev.data, x_heldout=ev.data.x[:60] * factor),
        probes=replace(ev.probes, heldout_output=collapsed),
    )


def test_heldout_not_normalised() -> None:
    found = HeldoutScaleShift().judge(shifted())
    assert found is not None
    assert found.code == "DP113"
    assert found.category == "data.inputs"
    assert found.severity is Severity.ERROR
    assert found.strength == 0.85
    assert found.evidence["std_ratio"] > 100


def test_heldout_much_smaller() -> None:
    found = HeldoutScaleShift().judge(shifted(1 / 255))
    assert found is not None
    assert "smaller" in found.message


def test_shift_with_good_heldout_score_is_weak() -> None:
    ev = shifted()
    ev = replace(ev, probes=replace(ev.probes, heldout_output=healthy().probes.heldout_output))
    found = HeldoutScaleShift().judge(ev)
    assert found is not None
    assert found.severity is Severity.WARNING


def test_small_shift_is_silent() -> None:
    assert HeldoutScaleShift().judge(shifted(3.0)) is None


def test_healthy_is_silent() -> None:
    assert HeldoutScaleShift().judge(healthy()) is None
    assert HeldoutScaleShift().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    found = HeldoutScaleShift().judge(keras(shifted()))
    assert found is not None
    assert "keras.layers.Normalization" in found.fix
    assert "layers.Rescaling(1 / 255)" in found.fix
    assert_no_torch(found.fix)
    assert "transforms." not in found.fix
