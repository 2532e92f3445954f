from dataclasses import replace

import pytest
from factory import healthy, output_probe

from deadpan.checks.model.vanishing_gradients import VANISHING_SHARE, VanishingGradients
from deadpan.evidence import Evidence, LayerInfo
from deadpan.findings import Severity

#: Weight counts of the factory model's layers: "0" is 4x32, "2" is 32x3.
FIRST, LAST = 4 * 32, 32 * 3


def _net(activation: str, share: float, collapsed: bool = True) -> Evidence:
    """The factory model with ``activation`` hidden units, the first layer's gradient RMS at ``share`` of the
    last's, and (optionally) a collapsed output."""
    ev = healthy()
    assert ev.model is not None and ev.training is not None
    layers = (
        LayerInfo("0", "Linear", units=32, n_params=160),
        LayerInfo("1", activation.capitalize(), activation=activation),
        LayerInfo("2", "Linear", units=3, n_params=99),
    )
    last_rms = 0.05
    grads = {"0.weight": share * last_rms * FIRST**0.5, "2.weight": last_rms * LAST**0.5}
    probes = ev.probes
    if collapsed:
        probe = output_probe(distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.0, score=1 / 3)
        probes = replace(probes, train_output=probe, heldout_output=probe)
    return replace(
        ev,
        model=replace(ev.model, layers=layers),
        training=replace(ev.training, layer_grad_norm=grads),
        probes=probes,
    )


def test_fires_on_sigmoid_net_whose_first_layer_gets_no_gradient() -> None:
    found = VanishingGradients().judge(_net("sigmoid", 0.004))
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP222", "model.saturation", Severity.ERROR)
    assert found.evidence["grad_share"] == pytest.approx(0.004)
    assert found.evidence["activations"] == ["sigmoid"]
    assert found.strength == pytest.approx(0.75)  # over ten times below the threshold
    assert "nn.ReLU()" in found.fix


def test_strength_grows_as_the_share_falls() -> None:
    near = VanishingGradients().judge(_net("tanh", VANISHING_SHARE * 0.9))
    far = VanishingGradients().judge(_net("tanh", VANISHING_SHARE * 0.2))
    assert near is not None and far is not None
    assert 0.55 <= near.strength < far.strength <= 0.75


def test_silent_above_the_threshold() -> None:
    assert VanishingGradients().judge(_net("sigmoid", VANISHING_SHARE * 1.1)) is None


def test_silent_with_relu() -> None:
    # A small share in a ReLU net is a matter of initialisation or scale (init.scale), not of the activation.
    assert VanishingGradients().judge(_net("relu", 0.004)) is None


def test_silent_with_only_a_sigmoid_head() -> None:
    ev = _net("relu", 0.004)
    assert ev.model is not None
    head = (*ev.model.layers, LayerInfo("3", "Sigmoid", activation="sigmoid"))
    assert VanishingGradients().judge(replace(ev, model=replace(ev.model, layers=head))) is None


def test_silent_when_the_model_works() -> None:
    assert VanishingGradients().judge(_net("sigmoid", 0.004, collapsed=False)) is None


def test_silent_without_per_layer_gradients() -> None:
    ev = _net("sigmoid", 0.004)
    assert ev.training is not None
    assert VanishingGradients().judge(replace(ev, training=replace(ev.training, layer_grad_norm={}))) is None


def test_silent_on_healthy() -> None:
    assert VanishingGradients().judge(healthy()) is None
