"""Keras checkpoint loads under ``deadpan run``: a frozen base filled by ``load_weights`` is pretrained, one
left as built while the run loaded a checkpoint elsewhere is named random (DP507)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from deadpan.script.autolog import run_callable


def _base() -> Any:
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(64, activation="relu", name="base")])


def _train(tmp: Path, load_into_trained: bool) -> None:
    keras.utils.set_random_seed(0)
    pretrained = _base()
    path = tmp / "base.weights.h5"
    pretrained.save_weights(path)
    base = _base()
    (base if load_into_trained else _base()).load_weights(path)  # the bug: loaded into a model never used
    base.trainable = False
    model = keras.Sequential([base, keras.layers.Dense(3, name="head")])
    model.compile(optimizer=keras.optimizers.SGD(1e-4), loss=keras.losses.SparseCategoricalCrossentropy(True))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 1).astype("int32")
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)


#: The load functions are Keras API, the same on every backend: checked on the torch backend (the faster).
one_backend = pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="backend-independent: checked on the torch backend"
)


@one_backend
@pytest.mark.parametrize("loaded", [True, False])
def test_load_weights_is_recorded_for_the_trained_model(tmp_path: Path, loaded: bool) -> None:
    ev = run_callable(lambda: _train(tmp_path, loaded)).evidence
    assert ev is not None and ev.model is not None
    assert ev.model.state_loads == 1
    assert ("base.weights" in (ev.model.loaded_names or ())) is loaded
