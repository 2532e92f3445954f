from dataclasses import replace

from factory import healthy, output_probe, regression_healthy, weights

from deadpan.checks.init.bad_init_scale import BadInitScale
from deadpan.evidence import Evidence, Probes, WeightStats
from deadpan.findings import Severity


def with_initial(initial: tuple[WeightStats, ...], score: float = 1 / 3) -> Evidence:
    ev = healthy()
    assert ev.model is not None
    probe = output_probe(distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.0, score=score)
    return replace(
        ev, model=replace(ev.model, initial_weights=initial), probes=replace(ev.probes, train_output=probe)
    )


def test_weights_100x_too_large() -> None:
    big = weights("0", 4, 32, std=100 * (2 / 4) ** 0.5)
    found = BadInitScale().judge(with_initial((big, weights("2", 32, 3))))
    assert found is not None
    assert found.code == "DP602"
    assert found.category == "init.scale"
    assert found.severity is Severity.ERROR
    assert 0.7 <= found.strength <= 0.85
    assert found.evidence["ratio"] > 99
    assert "kaiming_normal_" in found.fix


def test_bigger_ratio_is_stronger() -> None:
    big10 = BadInitScale().judge(with_initial((weights("0", 4, 32, std=15 * 0.707), weights("2", 32, 3))))
    big1000 = BadInitScale().judge(with_initial((weights("0", 4, 32, std=1000 * 0.707), weights("2", 32, 3))))
    assert big10 is not None and big1000 is not None
    assert big10.strength < big1000.strength


def test_tiny_hidden_weights() -> None:
    tiny = weights("0", 4, 32, std=1e-4)
    found = BadInitScale().judge(with_initial((tiny, weights("2", 32, 3))))
    assert found is not None
    assert "smaller" in found.message


def test_tiny_output_layer_is_silent() -> None:
    assert BadInitScale().judge(with_initial((weights("0", 4, 32), weights("2", 32, 3, std=1e-4)))) is None


def test_all_equal_rows_left_to_dp601() -> None:
    const = weights("0", 4, 32, std=50.0, distinct=1 / 32)
    assert BadInitScale().judge(with_initial((const, weights("2", 32, 3)))) is None


def test_unprobed_is_a_warning() -> None:
    ev = with_initial((weights("0", 4, 32, std=100.0), weights("2", 32, 3)))
    found = BadInitScale().judge(replace(ev, probes=Probes()))
    assert found is not None
    assert found.severity is Severity.WARNING
    assert found.strength <= 0.55


def test_large_init_but_model_fine_is_silent() -> None:
    ev = with_initial((weights("0", 4, 32, std=100.0), weights("2", 32, 3)))
    assert BadInitScale().judge(replace(ev, probes=healthy().probes)) is None


def test_healthy_is_silent() -> None:
    assert BadInitScale().judge(healthy()) is None
    assert BadInitScale().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    big = weights("0", 4, 32, std=100 * (2 / 4) ** 0.5)
    found = BadInitScale().judge(keras(with_initial((big, weights("2", 32, 3)))))
    assert found is not None
    assert 'kernel_initializer="he_normal"' in found.fix
    assert_no_torch(found.fix)
