from dataclasses import replace

from factory import healthy, output_probe

from deadpan.checks.train.frozen_random_layers import FrozenRandomLayers
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def frozen(first_trainable: bool = False, score: float = 0.4, std_factor: float = 1.0) -> Evidence:
    """The healthy 4-32-3 MLP with its first Linear (160 of 259 parameters) frozen, scoring ``score``."""
    ev = healthy()
    assert ev.model is not None
    layers = tuple(
        replace(layer, trainable=first_trainable) if layer.name == "0" else layer for layer in ev.model.layers
    )
    initial = tuple(
        replace(w, std=w.expected_std * std_factor) if w.name == "0" else w for w in ev.model.initial_weights
    )
    return replace(
        ev,
        model=replace(ev.model, layers=layers, initial_weights=initial),
        probes=replace(ev.probes, train_output=output_probe(score=score, majority_share=0.8)),
    )


def test_frozen_random_layers_are_found() -> None:
    found = FrozenRandomLayers().judge(frozen())
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP507", "train.loop", Severity.WARNING)
    assert found.evidence["frozen_layers"] == ["0"] and found.evidence["init_like"] is True
    assert found.strength == 0.65
    assert "62% of the model's 259 parameters" in found.message
    assert "requires_grad_(True)" in found.fix


def test_frozen_weights_far_from_an_initialiser_are_weaker() -> None:
    # 10x a standard initialiser's std: not a fresh random init, perhaps pretrained.
    found = FrozenRandomLayers().judge(frozen(std_factor=10.0))
    assert found is not None and found.strength == 0.5 and found.evidence["init_like"] is False


def test_nothing_frozen_is_silent() -> None:
    assert FrozenRandomLayers().judge(frozen(first_trainable=True)) is None


def test_frozen_but_working_is_silent() -> None:
    # Transfer learning that works: the model scores well and keeps up with the simple models.
    assert FrozenRandomLayers().judge(frozen(score=0.95)) is None


def test_keras_fix_speaks_keras() -> None:
    ev = frozen()
    assert ev.model is not None
    found = FrozenRandomLayers().judge(replace(ev, model=replace(ev.model, framework="keras")))
    assert found is not None
    assert "layer.trainable = True" in found.fix and "model.compile" in found.fix
    assert "torch" not in found.fix


def _loaded(ev: Evidence, names: tuple[str, ...], loads: int) -> Evidence:
    assert ev.model is not None
    return replace(ev, model=replace(ev.model, loaded_names=names, state_loads=loads))


def test_layers_loaded_from_a_checkpoint_in_the_run_are_pretrained_not_random() -> None:
    assert FrozenRandomLayers().judge(_loaded(frozen(), ("0.weight", "0.bias"), 1)) is None


def test_a_checkpoint_loaded_elsewhere_makes_the_unloaded_frozen_layers_random() -> None:
    found = FrozenRandomLayers().judge(_loaded(frozen(), (), 1))
    assert found is not None and found.strength > 0.8
    assert "loaded in this run" in found.message and "not into these layers" in found.message


def test_load_state_dict_is_recorded_for_the_trained_model() -> None:
    import torch
    from torch import nn

    from deadpan.script.autolog import run_callable

    def train() -> None:
        torch.manual_seed(0)
        pretrained = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        model[0].load_state_dict(pretrained[0].state_dict())
        model[0].requires_grad_(False)
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
        x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
        for _ in range(10):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()

    ev = run_callable(train).evidence
    assert ev is not None and ev.model is not None
    assert set(ev.model.loaded_names or ()) == {"0.weight", "0.bias"} and ev.model.state_loads == 1
