from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.loss.sigmoid_with_categorical_loss import SigmoidWithCategoricalLoss
from deadpan.evidence import Evidence, LayerInfo
from deadpan.findings import Severity

COLLAPSED = output_probe(distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.02, score=1 / 3)


def _categorical(
    act: str = "sigmoid", keras: bool = True, collapsed: bool = True, rows_sum_to_one: bool = False
) -> Evidence:
    """A 3-class classifier ending in ``act``, trained with categorical cross-entropy of probabilities."""
    ev = healthy()
    assert ev.loss is not None and ev.model is not None
    if keras:
        layers = (
            LayerInfo("dense", "Dense", units=32, n_params=160),
            LayerInfo("dense/relu", "Activation", activation="relu"),
            LayerInfo("dense_1", "Dense", units=3, n_params=99),
            LayerInfo(f"dense_1/{act}", "Activation", activation=act),
        )
        name, from_logits = "categorical_crossentropy", False
    else:
        layers = (
            LayerInfo("0", "Linear", units=32, n_params=160),
            LayerInfo("1", "ReLU", activation="relu"),
            LayerInfo("2", "Linear", units=3, n_params=99),
            LayerInfo("3", act.capitalize(), activation=act),
        )
        name, from_logits = "", None
    loss = replace(
        ev.loss,
        function="cross_entropy_probs",
        name=name,
        from_logits=from_logits,
        input_shape=(32, 3),
        target_shape=(32, 3),
        input_min=0.62,
        input_max=0.99,
        input_rows_are_probabilities=rows_sum_to_one,
    )
    probe = COLLAPSED if collapsed else output_probe()
    return replace(
        ev,
        model=replace(ev.model, framework="keras" if keras else "torch", layers=layers),
        loss=loss,
        probes=replace(ev.probes, train_output=probe),
    )


def test_fires_on_keras_sigmoid_output_with_categorical_crossentropy() -> None:
    found = SigmoidWithCategoricalLoss().judge(_categorical())
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP308", "loss.mismatch", Severity.WARNING)
    assert 0.4 <= found.strength <= 0.6
    assert 'activation="softmax"' in found.fix and 'loss="binary_crossentropy"' in found.fix
    assert "dense_1/sigmoid" in found.message and "categorical_crossentropy" in found.message


def test_torch_evidence_gets_a_torch_fix() -> None:
    found = SigmoidWithCategoricalLoss().judge(_categorical(keras=False))
    assert found is not None and found.category == "loss.mismatch"
    assert "nn.CrossEntropyLoss" in found.fix and "nn.BCEWithLogitsLoss" in found.fix
    assert "keras" not in found.fix


def test_multilabel_task_leads_with_binary_crossentropy() -> None:
    ev = _categorical()
    assert ev.task is not None
    ev = replace(ev, task=replace(ev.task, kind="multilabel"))
    found = SigmoidWithCategoricalLoss().judge(ev)
    assert found is not None and found.fix.startswith("for multi-label targets keep the sigmoid")


def test_silent_on_softmax_output() -> None:
    """Near miss: Dense(3, activation="softmax") gives distributions, as the loss expects."""
    assert SigmoidWithCategoricalLoss().judge(_categorical(act="softmax", rows_sum_to_one=True)) is None
    assert SigmoidWithCategoricalLoss().judge(_categorical(act="softmax")) is None


def test_silent_when_the_output_is_fine() -> None:
    assert SigmoidWithCategoricalLoss().judge(_categorical(collapsed=False)) is None


def test_silent_when_the_sigmoid_is_not_at_the_output() -> None:
    ev = _categorical()
    assert ev.model is not None
    hidden_sigmoid = (
        LayerInfo("dense", "Dense", units=32, n_params=160),
        LayerInfo("dense/sigmoid", "Activation", activation="sigmoid"),
        LayerInfo("dense_1", "Dense", units=3, n_params=99),
    )
    assert (
        SigmoidWithCategoricalLoss().judge(replace(ev, model=replace(ev.model, layers=hidden_sigmoid)))
        is None
    )


def test_silent_on_healthy() -> None:
    assert SigmoidWithCategoricalLoss().judge(healthy()) is None
    assert SigmoidWithCategoricalLoss().judge(regression_healthy()) is None
