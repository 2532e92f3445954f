from dataclasses import replace

from factory import healthy, output_probe, regression_healthy

from deadpan.checks.loss.nll_on_raw_outputs import NllOnRawOutputs
from deadpan.evidence import Evidence
from deadpan.findings import Severity

COLLAPSED = output_probe(distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.01, score=1 / 3)


def _nll(
    lo: float = -0.4,
    hi: float = 0.44,
    collapsed: bool = True,
    loss_values: tuple[float, ...] | None = None,
    **fields: object,
) -> Evidence:
    """A 3-class classifier trained with ``nll_loss``; its first loss input spans [lo, hi]."""
    ev = healthy()
    assert ev.loss is not None and ev.training is not None
    loss = replace(ev.loss, function="nll_loss", input_min=lo, input_max=hi, **fields)  # type: ignore[arg-type]
    ev = replace(ev, loss=loss)
    if loss_values is not None:
        steps = tuple(range(0, 10 * len(loss_values), 10))
        ev = replace(ev, training=replace(ev.training, loss=loss_values, loss_steps=steps))
    if collapsed:
        ev = replace(ev, probes=replace(ev.probes, train_output=COLLAPSED, heldout_output=COLLAPSED))
    return ev


def test_fires_on_raw_logits_into_nll() -> None:
    found = NllOnRawOutputs().judge(_nll(loss_values=(-0.05, -3.0, -400.0, -5000.0)))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP309", "loss.mismatch", Severity.ERROR)
    assert found.strength >= 0.9
    assert "LogSoftmax(dim=1)" in found.fix and "CrossEntropyLoss" in found.fix
    assert "logits" in found.message and "-5e+03" in found.message
    assert found.evidence["lowest_training_loss"] == -5000.0


def test_fires_on_unnormalised_values_below_zero_when_measured() -> None:
    ev = _nll(
        lo=-3.0, hi=-0.01, input_rows_are_log_probabilities=False, input_columns_are_log_probabilities=False
    )
    found = NllOnRawOutputs().judge(ev)
    assert found is not None and "not normalised" in found.message


def test_weaker_when_the_model_scores_well() -> None:
    found = NllOnRawOutputs().judge(_nll(collapsed=False))
    assert found is not None
    assert found.severity is Severity.WARNING and found.strength < 0.5


def test_silent_on_log_probabilities() -> None:
    assert NllOnRawOutputs().judge(_nll(lo=-6.0, hi=-1e-7, collapsed=False)) is None
    ev = _nll(
        lo=-6.0, hi=0.0, input_rows_are_log_probabilities=True, input_columns_are_log_probabilities=False
    )
    assert NllOnRawOutputs().judge(ev) is None


def test_leaves_a_log_softmax_over_the_batch_to_dp212() -> None:
    ev = _nll(
        lo=-6.0, hi=-0.2, input_rows_are_log_probabilities=False, input_columns_are_log_probabilities=True
    )
    assert NllOnRawOutputs().judge(ev) is None


def test_leaves_softmax_probabilities_to_dp301() -> None:
    assert NllOnRawOutputs().judge(_nll(lo=0.01, hi=0.95, input_rows_are_probabilities=True)) is None


def test_silent_on_healthy() -> None:
    assert NllOnRawOutputs().judge(healthy()) is None  # cross_entropy on logits
    assert NllOnRawOutputs().judge(regression_healthy()) is None
