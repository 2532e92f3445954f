from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.model.bottleneck_layer import BottleneckLayer
from deadpan.evidence import Evidence, LayerInfo, Task
from deadpan.findings import Severity


def narrow(units: int, n_classes: int = 10, score: float = 0.2) -> Evidence:
    ev = healthy()
    assert ev.model is not None
    layers = (
        LayerInfo("fc1", "Linear", units=64, n_params=320),
        LayerInfo("act1", "ReLU", activation="relu"),
        LayerInfo("fc2", "Linear", units=units, n_params=65 * units),
        LayerInfo("act2", "ReLU", activation="relu"),
        LayerInfo("out", "Linear", units=n_classes, n_params=(units + 1) * n_classes),
    )
    return replace(
        ev,
        task=Task(kind="multiclass", n_classes=n_classes, n_outputs=n_classes),
        model=replace(ev.model, layers=layers),
        probes=replace(
            ev.probes, train_output=output_probe(score=score, chance_score=1 / n_classes, n_outputs=n_classes)
        ),
    )


def test_layer_narrower_than_classes() -> None:
    found = BottleneckLayer().judge(narrow(4))
    assert found is not None
    assert found.code == "DP202"
    assert found.category == "model.capacity"
    assert found.severity is Severity.ERROR
    assert found.evidence["layer"] == "fc2"
    assert 0.55 <= found.strength <= 0.75


def test_single_unit_layer_in_regression() -> None:
    ev = regression_healthy()
    assert ev.model is not None
    layers = (
        LayerInfo("fc1", "Linear", units=64, n_params=320),
        LayerInfo("act1", "ReLU", activation="relu"),
        LayerInfo("fc2", "Linear", units=1, n_params=65),
        LayerInfo("act2", "ReLU", activation="relu"),
        LayerInfo("out", "Linear", units=1, n_params=2),
    )
    ev = replace(
        ev,
        model=replace(ev.model, layers=layers),
        probes=replace(
            ev.probes,
            train_output=output_probe(
                distinct_predictions=1, output_spread_ratio=0.0, score=0.0, chance_score=0.0, n_outputs=1
            ),
        ),
    )
    found = BottleneckLayer().judge(ev)
    assert found is not None
    assert found.strength == 0.7


def test_narrow_but_model_fine_is_silent() -> None:
    assert BottleneckLayer().judge(narrow(4, score=0.95)) is None


def test_wide_enough_is_silent() -> None:
    assert BottleneckLayer().judge(narrow(16)) is None


def test_healthy_is_silent() -> None:
    assert BottleneckLayer().judge(healthy()) is None
    assert BottleneckLayer().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    ev = keras(narrow(4))
    assert ev.model is not None
    layers = (
        LayerInfo("dense", "Dense", units=64, n_params=320),
        LayerInfo("dense/relu", "Activation", activation="relu"),
        LayerInfo("dense_1", "Dense", units=4, n_params=260),
        LayerInfo("dense_1/relu", "Activation", activation="relu"),
        LayerInfo("dense_2", "Dense", units=10, n_params=50),
        LayerInfo("dense_2/softmax", "Activation", activation="softmax"),
    )
    found = BottleneckLayer().judge(replace(ev, model=replace(ev.model, layers=layers)))
    assert found is not None
    assert found.evidence["layer"] == "dense_1"
    assert 'layers.Dense(64, activation="relu")' in found.fix
    assert_no_torch(found.fix)


def test_single_unit_recurrent_state_is_a_bottleneck() -> None:
    # Embedding -> GRU with one unit -> Linear: the whole sequence is summarised in one number.
    ev = narrow(units=1, n_classes=3, score=0.5)
    assert ev.model is not None
    layers = (
        LayerInfo("emb", "Embedding", units=16, n_params=320),
        LayerInfo("gru", "GRU", units=1, n_params=57),
        LayerInfo("out", "Linear", units=3, n_params=6),
    )
    found = BottleneckLayer().judge(replace(ev, model=replace(ev.model, layers=layers)))
    assert found is not None and found.evidence["layer"] == "gru"
    assert "nn.GRU(input_size, hidden_size=" in found.fix
