from dataclasses import replace

from factory import healthy, regression_healthy

from deadpan.checks.train.params_not_in_optimizer import ParamsNotInOptimizer
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def _unoptimized(count: int, names: tuple[str, ...]) -> Evidence:
    ev = healthy()
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, params_not_in_optimizer=count, unoptimized_names=names))


def test_fires_when_the_head_is_not_optimized() -> None:
    found = ParamsNotInOptimizer().judge(_unoptimized(99, ("2.weight", "2.bias")))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP504", "train.loop", Severity.ERROR)
    assert "`2.weight`" in found.message and "`2.bias`" in found.message
    assert "model.parameters()" in found.fix and "nn.ModuleList" in found.fix
    assert 0.7 <= found.strength < 0.9


def test_strength_grows_with_the_missing_fraction() -> None:
    found = ParamsNotInOptimizer().judge(_unoptimized(259, ("0.weight", "0.bias", "2.weight", "2.bias")))
    assert found is not None and found.strength >= 0.9


def test_a_small_missing_part_is_a_warning() -> None:
    found = ParamsNotInOptimizer().judge(_unoptimized(3, ("2.bias",)))
    assert found is not None and found.severity is Severity.WARNING and found.strength < 0.5


def test_silent_on_healthy() -> None:
    assert ParamsNotInOptimizer().judge(healthy()) is None
    assert ParamsNotInOptimizer().judge(regression_healthy()) is None
