"""``deadpan run`` options on Keras trainings: ``--max-steps`` stops ``fit`` and ``train_on_batch``."""

from __future__ import annotations

import keras
import numpy as np

from deadpan.script.autolog import run_callable


def _model() -> keras.Model:
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


def test_max_steps_stops_fit_and_still_diagnoses() -> None:
    x = np.random.default_rng(0).normal(size=(320, 4)).astype("float32")
    y = x.sum(1, keepdims=True)
    model = _model()
    epochs_run: list[int] = []

    def train() -> None:
        history = model.fit(x, y, batch_size=32, epochs=20, verbose=0)  # 200 steps asked for
        epochs_run.append(len(history.epoch))

    result = run_callable(train, max_steps=15)
    assert result.ended == "max-steps" and result.status == 0
    assert not epochs_run  # fit was stopped, the script did not go on
    assert int(model.optimizer.iterations) == 15
    assert result.report.verdict != "inconclusive", result.report.summary


def test_max_steps_stops_train_on_batch() -> None:
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    model = _model()
    calls: list[int] = []

    def train() -> None:
        for i in range(100):
            model.train_on_batch(x, x.sum(1, keepdims=True))
            calls.append(i)

    result = run_callable(train, max_steps=7)
    assert result.ended == "max-steps"
    assert len(calls) == 6  # the 7th call trained, then deadpan stopped the script
    assert int(model.optimizer.iterations) == 7
