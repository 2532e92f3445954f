from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.loss.logits_into_probability_loss import LogitsIntoProbabilityLoss
from deadpan.evidence import Evidence, LayerInfo, Task
from deadpan.findings import Severity

COLLAPSED = output_probe(
    distinct_predictions=1,
    majority_share=1.0,
    output_spread_ratio=0.01,
    score=0.5,
    chance_score=0.5,
    n_outputs=1,
)


def _binary(
    lo: float = -2.3,
    hi: float = 1.8,
    keras: bool = True,
    collapsed: bool = True,
    function: str = "binary_cross_entropy",
) -> Evidence:
    """A binary classifier with one linear output unit trained with binary cross-entropy of probabilities."""
    ev = healthy()
    assert ev.loss is not None and ev.model is not None
    if keras:
        layers = (
            LayerInfo("dense", "Dense", units=32, n_params=160),
            LayerInfo("dense/relu", "Activation", activation="relu"),
            LayerInfo("dense_1", "Dense", units=1, n_params=33),
        )
        name, from_logits = "binary_crossentropy", False
    else:
        layers = (
            LayerInfo("0", "Linear", units=32, n_params=160),
            LayerInfo("1", "ReLU", activation="relu"),
            LayerInfo("2", "Linear", units=1, n_params=33),
        )
        name, from_logits = "", None
    loss = replace(
        ev.loss,
        function=function,
        name=name,
        from_logits=from_logits,
        input_shape=(32, 1),
        target_shape=(32, 1),
        target_is_integer=False,
        input_min=lo,
        input_max=hi,
        target_min=0.0,
        target_max=1.0,
    )
    probe = COLLAPSED if collapsed else output_probe(score=0.95, chance_score=0.5, n_outputs=1)
    return replace(
        ev,
        task=Task(kind="binary", n_classes=2, n_outputs=1),
        model=replace(ev.model, framework="keras" if keras else "torch", layers=layers),
        loss=loss,
        probes=replace(ev.probes, train_output=probe, heldout_output=None),
    )


def test_fires_on_keras_dense_without_activation_into_binary_crossentropy() -> None:
    found = LogitsIntoProbabilityLoss().judge(_binary())
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP307", "loss.mismatch", Severity.ERROR)
    assert found.strength >= 0.9
    assert "from_logits=True" in found.fix and "keras.losses.BinaryCrossentropy" in found.fix
    assert 'activation="sigmoid"' in found.fix
    assert "binary_crossentropy" in found.message
    assert "nn." not in found.fix


def test_keras_categorical_fix_names_the_loss_class_and_softmax() -> None:
    ev = _binary(lo=-3.0, hi=4.0)
    assert ev.loss is not None
    loss = replace(
        ev.loss, function="cross_entropy_probs", name="sparse_categorical_crossentropy", input_shape=(32, 3)
    )
    ev = replace(ev, loss=loss, task=Task(kind="multiclass", n_classes=3, n_outputs=3))
    found = LogitsIntoProbabilityLoss().judge(ev)
    assert found is not None
    assert "keras.losses.SparseCategoricalCrossentropy(from_logits=True)" in found.fix
    assert 'Dense(3, activation="softmax")' in found.fix


def test_torch_evidence_gets_a_torch_fix() -> None:
    found = LogitsIntoProbabilityLoss().judge(_binary(keras=False))
    assert found is not None and found.category == "loss.mismatch"
    assert "nn.BCEWithLogitsLoss" in found.fix and "keras" not in found.fix
    assert "F.binary_cross_entropy" in found.message


def test_weaker_when_unprobed_and_a_warning_when_the_model_is_fine() -> None:
    ev = _binary()
    unprobed = LogitsIntoProbabilityLoss().judge(replace(ev, probes=replace(ev.probes, train_output=None)))
    assert unprobed is not None and 0.7 <= unprobed.strength < 0.9
    fine = LogitsIntoProbabilityLoss().judge(_binary(collapsed=False))
    assert fine is not None and fine.severity == Severity.WARNING and fine.strength < 0.5


def test_silent_when_the_output_is_in_the_unit_interval() -> None:
    """Near miss: Dense(1, activation="sigmoid") gives probabilities, as the loss expects."""
    assert LogitsIntoProbabilityLoss().judge(_binary(lo=0.03, hi=0.97)) is None
    assert LogitsIntoProbabilityLoss().judge(_binary(lo=0.0, hi=1.0 + 1e-7)) is None


def test_silent_when_the_loss_takes_logits() -> None:
    ev = _binary(function="binary_cross_entropy_with_logits")
    assert LogitsIntoProbabilityLoss().judge(ev) is None


def test_silent_on_healthy() -> None:
    assert LogitsIntoProbabilityLoss().judge(healthy()) is None
    assert LogitsIntoProbabilityLoss().judge(regression_healthy()) is None
