from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.loss.probabilities_into_logits_loss import ProbabilitiesIntoLogitsLoss
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def _bce(ev: Evidence, function: str = "binary_cross_entropy_with_logits", lo: float = 0.02) -> Evidence:
    assert ev.loss is not None
    loss = replace(
        ev.loss, function=function, input_shape=(32, 1), target_shape=(32, 1), input_min=lo, input_max=0.97
    )
    return replace(ev, loss=loss)


def test_fires_on_sigmoid_before_bce_with_logits() -> None:
    ev = _bce(healthy())
    found = ProbabilitiesIntoLogitsLoss().judge(replace(ev, probes=replace(ev.probes, train_output=None)))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP304", "loss.mismatch", Severity.ERROR)
    assert 0.8 <= found.strength < 0.9
    assert "sigmoid" in found.fix


def test_stronger_when_the_final_output_is_also_in_unit_interval() -> None:
    ev = _bce(healthy())
    ev = replace(ev, probes=replace(ev.probes, train_output=output_probe(outputs_in_unit_interval=True)))
    found = ProbabilitiesIntoLogitsLoss().judge(ev)
    assert found is not None and found.strength >= 0.9


def test_silent_when_final_outputs_leave_the_unit_interval() -> None:
    """Logits that happened to lie in [0, 1] at the first call, then left it: no sigmoid at the end."""
    ev = _bce(healthy())
    ev = replace(ev, probes=replace(ev.probes, train_output=output_probe(outputs_in_unit_interval=False)))
    assert ProbabilitiesIntoLogitsLoss().judge(ev) is None


def test_silent_on_real_logits() -> None:
    assert ProbabilitiesIntoLogitsLoss().judge(_bce(healthy(), lo=-2.5)) is None


def test_silent_for_bce_loss_which_expects_probabilities() -> None:
    assert ProbabilitiesIntoLogitsLoss().judge(_bce(healthy(), function="binary_cross_entropy")) is None


def test_silent_on_healthy() -> None:
    assert ProbabilitiesIntoLogitsLoss().judge(healthy()) is None
    assert ProbabilitiesIntoLogitsLoss().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_fix_speaks_keras() -> None:
    ev = keras(_bce(healthy()))
    assert ev.loss is not None
    ev = replace(ev, loss=replace(ev.loss, name="binary_crossentropy", from_logits=True))
    found = ProbabilitiesIntoLogitsLoss().judge(replace(ev, probes=replace(ev.probes, train_output=None)))
    assert found is not None
    assert "`binary_crossentropy` with `from_logits=True`" in found.message
    assert "drop `from_logits=True`" in found.fix and 'activation="sigmoid"' in found.fix
    assert_no_torch(found.message + found.fix)
    assert "BCE" not in found.message + found.fix
