from dataclasses import replace

from factory import healthy, output_probe, regression_healthy, weights

from deadpan.checks.init.symmetric_weights import SymmetricWeights
from deadpan.evidence import Evidence, WeightStats
from deadpan.findings import Severity


def zero_hidden() -> WeightStats:
    return replace(weights("0", 4, 32, std=0.0, distinct=1 / 32), mean_abs=0.0)


def with_weights(initial: tuple[WeightStats, ...], final: tuple[WeightStats, ...]) -> Evidence:
    ev = healthy()
    assert ev.model is not None
    probe = output_probe(distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.0, score=1 / 3)
    return replace(
        ev,
        model=replace(ev.model, initial_weights=initial, final_weights=final),
        probes=replace(ev.probes, train_output=probe),
    )


def test_zero_init_hidden_layer() -> None:
    ev = with_weights((zero_hidden(), weights("2", 32, 3)), (zero_hidden(), weights("2", 32, 3)))
    found = SymmetricWeights().judge(ev)
    assert found is not None
    assert found.code == "DP601"
    assert found.category == "init.symmetry"
    assert found.severity is Severity.ERROR
    assert found.strength >= 0.9
    assert "all zero" in found.message
    assert "kaiming_uniform_" in found.fix


def test_constant_init_seen_only_at_the_end() -> None:
    const = weights("0", 4, 32, std=0.0, distinct=1 / 32)
    found = SymmetricWeights().judge(with_weights((), (const, weights("2", 32, 3))))
    assert found is not None
    assert found.strength == 0.9
    assert found.evidence["stage"] == "final"


def test_zero_output_layer_only_is_silent() -> None:
    zero_head = replace(weights("2", 32, 3, std=0.0, distinct=1 / 3), mean_abs=0.0)
    ev = with_weights((weights("0", 4, 32), zero_head), (weights("0", 4, 32), weights("2", 32, 3)))
    assert SymmetricWeights().judge(ev) is None


def test_symmetry_broken_in_training_and_model_fine_is_silent() -> None:
    ev = with_weights((zero_hidden(), weights("2", 32, 3)), (weights("0", 4, 32), weights("2", 32, 3)))
    ev = replace(ev, probes=replace(ev.probes, train_output=output_probe()))
    assert SymmetricWeights().judge(ev) is None


def test_healthy_is_silent() -> None:
    assert SymmetricWeights().judge(healthy()) is None
    assert SymmetricWeights().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    ev = with_weights((zero_hidden(), weights("2", 32, 3)), (zero_hidden(), weights("2", 32, 3)))
    found = SymmetricWeights().judge(keras(ev))
    assert found is not None
    assert 'kernel_initializer="zeros"' in found.fix
    assert 'kernel_initializer="glorot_uniform"' in found.fix
    assert_no_torch(found.fix)
