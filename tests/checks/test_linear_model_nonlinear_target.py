from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.model.linear_model_nonlinear_target import LinearModelNonlinearTarget
from deadpan.evidence import Evidence, LayerInfo, LearnabilityProbe
from deadpan.findings import Severity

LINEAR_STACK = (
    LayerInfo("0", "Linear", units=32, n_params=160),
    LayerInfo("1", "Linear", units=3, n_params=99),
)


def xor_like(layers: tuple[LayerInfo, ...] = LINEAR_STACK, score: float = 0.35) -> Evidence:
    ev = healthy()
    assert ev.model is not None
    return replace(
        ev,
        model=replace(ev.model, layers=layers),
        probes=replace(
            ev.probes,
            train_output=output_probe(score=score),
            learnability=LearnabilityProbe("balanced_accuracy", 0.36, 0.95, 0.33, 1 / 3, 300),
        ),
    )


def test_linear_stack_on_nonlinear_target() -> None:
    found = LinearModelNonlinearTarget().judge(xor_like())
    assert found is not None
    assert found.code == "DP201"
    assert found.category == "model.capacity"
    assert found.severity is Severity.ERROR
    assert found.strength == 0.7
    assert "nn.ReLU()" in found.fix


def test_between_linear_and_nonlinear_is_weaker() -> None:
    found = LinearModelNonlinearTarget().judge(xor_like(score=0.5))
    assert found is not None
    assert found.strength == 0.55


def test_single_linear_layer_with_final_softmax() -> None:
    layers = (LayerInfo("0", "Linear", units=3, n_params=15), LayerInfo("1", "Softmax", activation="softmax"))
    assert LinearModelNonlinearTarget().judge(xor_like(layers)) is not None


def test_keras_dense_with_activation_counts() -> None:
    layers = (
        LayerInfo("d0", "Dense", activation="relu", units=32, n_params=160),
        LayerInfo("d1", "Dense", activation="softmax", units=3, n_params=99),
    )
    assert LinearModelNonlinearTarget().judge(xor_like(layers)) is None


def test_linear_stack_that_scores_well_is_silent() -> None:
    assert LinearModelNonlinearTarget().judge(xor_like(score=0.93)) is None


def test_linear_stack_on_linear_target_is_silent() -> None:
    ev = xor_like()
    ev = replace(ev, probes=replace(ev.probes, learnability=healthy().probes.learnability))
    assert LinearModelNonlinearTarget().judge(ev) is None


def test_healthy_is_silent() -> None:
    assert LinearModelNonlinearTarget().judge(healthy()) is None
    assert LinearModelNonlinearTarget().judge(regression_healthy()) is None
    # the healthy MLP has a ReLU: silent even on a non-linear target it fails on
    model = healthy().model
    assert model is not None
    assert LinearModelNonlinearTarget().judge(xor_like(model.layers)) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    layers = (LayerInfo("dense", "Dense", units=32, n_params=160), LayerInfo("dense_1", "Dense", units=3))
    found = LinearModelNonlinearTarget().judge(keras(xor_like(layers)))
    assert found is not None
    assert 'layers.Dense(64, activation="relu")' in found.fix
    assert "keras.Sequential" in found.fix
    assert_no_torch(found.message + found.fix)
    assert "F.relu" not in found.message + found.fix
