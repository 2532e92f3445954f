from dataclasses import replace

from factory import healthy, output_probe, regression_healthy, weights

from deadpan.checks.train.weight_decay_collapse import WeightDecayCollapse
from deadpan.evidence import Evidence, OptimizerInfo
from deadpan.findings import Severity


def _decayed(
    decay: float = 0.5, shrink: float = 0.05, collapsed: bool = True, decoupled: bool = False, l2: float = 0.0
) -> Evidence:
    ev = healthy()
    assert ev.training is not None and ev.model is not None
    name = "AdamW" if decoupled else "Adam"
    optimizer = OptimizerInfo(name, lr=1e-3, weight_decay=decay, decoupled_weight_decay=decoupled)
    final = tuple(weights(w.name, w.fan_in, w.fan_out, std=w.std * shrink) for w in ev.model.initial_weights)
    probe = (
        output_probe(distinct_predictions=1, majority_share=1.0, output_spread_ratio=0.01, score=1 / 3)
        if collapsed
        else output_probe()
    )
    return replace(
        ev,
        training=replace(ev.training, optimizer=optimizer, explicit_l2=l2),
        model=replace(ev.model, final_weights=final),
        probes=replace(ev.probes, train_output=probe),
    )


def test_fires_on_huge_weight_decay_that_shrank_the_weights() -> None:
    found = WeightDecayCollapse().judge(_decayed())
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP530", "train.over_regularized", Severity.ERROR)
    assert found.strength >= 0.8
    assert "weight_decay=1e-4" in found.fix and "torch.optim.Adam(" in found.fix


def test_fires_on_a_hand_written_l2_penalty() -> None:
    found = WeightDecayCollapse().judge(_decayed(decay=0.0, shrink=0.2, l2=0.5))
    assert found is not None and "L2" in found.fix and found.strength == 0.75


def test_silent_when_the_weights_did_not_shrink() -> None:
    assert WeightDecayCollapse().judge(_decayed(shrink=0.9)) is None


def test_silent_when_the_output_is_fine() -> None:
    assert WeightDecayCollapse().judge(_decayed(collapsed=False)) is None


def test_silent_on_usual_weight_decay() -> None:
    assert WeightDecayCollapse().judge(_decayed(decay=1e-4)) is None
    assert WeightDecayCollapse().judge(_decayed(decay=0.1, decoupled=True)) is None


def test_silent_on_healthy() -> None:
    assert WeightDecayCollapse().judge(healthy()) is None
    assert WeightDecayCollapse().judge(regression_healthy()) is None


def keras(ev: Evidence) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, framework="keras"))


def assert_no_torch(text: str) -> None:
    assert "torch" not in text and "nn." not in text


def test_keras_weight_decay_and_l2_regularizer() -> None:
    ev = keras(_decayed(decay=0.9, decoupled=True, l2=0.2))  # l2 = 0.2 is keras.regularizers.l2(0.1)
    found = WeightDecayCollapse().judge(ev)
    assert found is not None
    assert "`keras.regularizers.l2(0.1)` on the weights" in found.message
    assert "keras.optimizers.AdamW(learning_rate=..., weight_decay=1e-2)" in found.fix
    assert "kernel_regularizer=keras.regularizers.l2(1e-4)" in found.fix
    assert_no_torch(found.message + found.fix)
