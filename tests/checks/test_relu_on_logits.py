from dataclasses import replace

from factory import healthy, output_probe

from deadpan.checks.model.relu_on_logits import ReluOnLogits
from deadpan.evidence import Evidence, LayerInfo
from deadpan.findings import Severity


def relu_head(score: float = 0.5, input_min: float = 0.0, function: str = "cross_entropy") -> Evidence:
    """The healthy 4-32-3 MLP with a ReLU after its output layer, the loss seeing only values >= 0."""
    ev = healthy()
    assert ev.model is not None and ev.loss is not None
    layers = (*ev.model.layers, LayerInfo("3", "ReLU", activation="relu"))
    return replace(
        ev,
        model=replace(ev.model, layers=layers),
        loss=replace(ev.loss, function=function, input_min=input_min),
        probes=replace(ev.probes, train_output=output_probe(score=score)),
    )


def test_relu_on_logits_is_found() -> None:
    found = ReluOnLogits().judge(relu_head())
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP213", "model.output", Severity.ERROR)
    assert found.strength == 0.7
    assert "remove `3` (relu)" in found.fix and "CrossEntropyLoss" in found.fix


def test_sigmoid_loss_is_stronger() -> None:
    found = ReluOnLogits().judge(relu_head(function="binary_cross_entropy_with_logits"))
    assert found is not None and found.strength == 0.85
    assert "never drops below 0.5" in found.message


def test_negative_logits_mean_no_floor() -> None:
    assert ReluOnLogits().judge(relu_head(input_min=-2.0)) is None


def test_silent_without_the_activation_or_when_the_model_is_fine() -> None:
    assert ReluOnLogits().judge(replace(healthy(), probes=relu_head().probes)) is None
    assert ReluOnLogits().judge(relu_head(score=0.95)) is None


def test_keras_fix_speaks_keras() -> None:
    ev = relu_head()
    assert ev.model is not None
    found = ReluOnLogits().judge(replace(ev, model=replace(ev.model, framework="keras")))
    assert found is not None
    assert "Dense(units)" in found.fix and "from_logits=True" in found.fix and "torch" not in found.fix
