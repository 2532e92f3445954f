from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.train.heavy_dropout_at_output import HeavyDropoutAtOutput
from deadpan.evidence import Evidence, LayerInfo
from deadpan.findings import Severity

COLLAPSED = output_probe(distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.02, score=1 / 3)


def _keras_layers(rate: float) -> tuple[LayerInfo, ...]:
    return (
        LayerInfo("dense", "Dense", units=32, n_params=160),
        LayerInfo("dense/relu", "Activation", activation="relu"),
        LayerInfo("dropout", "Dropout", dropout=rate),
        LayerInfo("dense_1", "Dense", units=3, n_params=99),
    )


def _torch_layers(rate: float) -> tuple[LayerInfo, ...]:
    return (
        LayerInfo("0", "Linear", units=32, n_params=160),
        LayerInfo("1", "Dropout", dropout=rate),
        LayerInfo("2", "ReLU", activation="relu"),
        LayerInfo("3", "Linear", units=3, n_params=99),
    )


def _dropped(
    rate: float = 0.6, keras: bool = True, collapsed: bool = True, layers: tuple[LayerInfo, ...] | None = None
) -> Evidence:
    ev = healthy()
    assert ev.model is not None
    if layers is None:
        layers = _keras_layers(rate) if keras else _torch_layers(rate)
    return replace(
        ev,
        model=replace(
            ev.model, framework="keras" if keras else "torch", layers=layers, has_mode_dependent_layers=True
        ),
        probes=replace(ev.probes, train_output=COLLAPSED if collapsed else output_probe()),
    )


def test_fires_on_keras_heavy_dropout_before_the_output_layer() -> None:
    found = HeavyDropoutAtOutput().judge(_dropped())
    assert found is not None
    assert (found.code, found.category) == ("DP531", "train.over_regularized")
    assert found.severity == Severity.WARNING and found.strength == 0.5
    assert "keras.layers.Dropout(0.2)" in found.fix and "nn." not in found.fix
    assert "`dropout`" in found.message and "dense_1" in found.message
    assert found.evidence["output_layer_fan_in"] == 32


def test_torch_evidence_gets_a_torch_fix_and_activations_between_are_skipped() -> None:
    found = HeavyDropoutAtOutput().judge(_dropped(keras=False))
    assert found is not None and found.category == "train.over_regularized"
    assert "nn.Dropout(p=0.2)" in found.fix and "keras" not in found.fix


def test_extreme_or_stacked_dropout_is_stronger() -> None:
    extreme = HeavyDropoutAtOutput().judge(_dropped(rate=0.9))
    assert extreme is not None and extreme.severity == Severity.ERROR and extreme.strength > 0.5
    stacked = (
        LayerInfo("dense", "Dense", units=32, n_params=160),
        LayerInfo("dropout", "Dropout", dropout=0.3),
        LayerInfo("dense/relu", "Activation", activation="relu"),
        LayerInfo("dropout_1", "Dropout", dropout=0.4),
        LayerInfo("dense_1", "Dense", units=3, n_params=99),
    )
    found = HeavyDropoutAtOutput().judge(_dropped(layers=stacked))
    assert found is not None and abs(found.evidence["dropout_rate"] - 0.58) < 1e-9


def test_silent_on_moderate_dropout() -> None:
    """Near miss: dropout 0.3 before the output is an ordinary rate."""
    assert HeavyDropoutAtOutput().judge(_dropped(rate=0.3)) is None
    assert HeavyDropoutAtOutput().judge(_dropped(rate=0.3, keras=False)) is None


def test_silent_when_heavy_dropout_is_not_next_to_the_output() -> None:
    """Near miss: heavy dropout on an earlier layer, a weight layer between it and the output."""
    earlier = (
        LayerInfo("dense", "Dense", units=64, n_params=320),
        LayerInfo("dense/relu", "Activation", activation="relu"),
        LayerInfo("dropout", "Dropout", dropout=0.6),
        LayerInfo("dense_1", "Dense", units=32, n_params=2080),
        LayerInfo("dense_1/relu", "Activation", activation="relu"),
        LayerInfo("dense_2", "Dense", units=3, n_params=99),
    )
    assert HeavyDropoutAtOutput().judge(_dropped(layers=earlier)) is None


def test_silent_when_the_output_is_fine() -> None:
    assert HeavyDropoutAtOutput().judge(_dropped(collapsed=False)) is None


def test_silent_on_healthy() -> None:
    assert HeavyDropoutAtOutput().judge(healthy()) is None
    assert HeavyDropoutAtOutput().judge(regression_healthy()) is None
