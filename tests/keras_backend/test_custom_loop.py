"""Hand-written Keras training loops under ``deadpan run``: ``optimizer.apply`` called by the user's code
(eagerly on the torch backend, inside a ``tf.function`` on TensorFlow) is seen step by step, with the data
read from the model and loss calls, so a healthy loop is judged healthy and a one-class loop collapsed."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest

from deadpan.script.autolog import run_callable

BACKEND = keras.backend.backend()


def _data(one_class: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int32")
    return x, np.zeros_like(y) if one_class else y


def _model() -> Any:
    return keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)]
    )


def _tf_loop(x: np.ndarray, y: np.ndarray) -> None:
    import tensorflow as tf

    model, opt = _model(), keras.optimizers.Adam(1e-2)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step(xb: Any, yb: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        variables = model.trainable_variables
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    for _ in range(4):
        for i in range(0, len(x), 32):
            step(tf.constant(x[i : i + 32]), tf.constant(y[i : i + 32]))


def _torch_loop(x: np.ndarray, y: np.ndarray) -> None:
    import torch

    model, opt = _model(), keras.optimizers.Adam(1e-2)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for _ in range(4):
        for i in range(0, len(x), 32):
            loss = loss_fn(torch.from_numpy(y[i : i + 32]).long(), model(torch.from_numpy(x[i : i + 32])))
            model.zero_grad()
            loss.backward()
            weights = list(model.trainable_weights)
            with torch.no_grad():
                opt.apply([v.value.grad for v in weights], weights)


LOOPS = {"tensorflow": _tf_loop, "torch": _torch_loop}


@pytest.mark.skipif(BACKEND not in LOOPS, reason="a custom loop needs the backend's autograd")
@pytest.mark.parametrize(("one_class", "verdict"), [(False, "healthy"), (True, "collapsed")])
def test_custom_loop_is_judged(one_class: bool, verdict: str) -> None:
    x, y = _data(one_class)

    def train() -> None:
        keras.utils.set_random_seed(0)
        LOOPS[BACKEND](x, y)

    result = run_callable(train)
    report = result.report
    assert result.status == 0 and report.internal_errors == (), report.internal_errors
    assert report.metrics["steps"] == 32
    assert report.verdict == verdict, str(report)
    if one_class:
        assert report.causes and report.causes[0].category == "data.labels", str(report)
