"""Keras scenarios: twins of the PyTorch ones for every cause category a Keras ``fit`` can have.

Each function is what a Keras user writes: seed, data, ``Sequential`` model, ``compile``, ``fit``. They run
on whichever backend Keras was imported with. The training-loop bugs (``zero_grad`` missing, loss detached,
the same batch every step) have no Keras twin: ``fit`` owns the loop and cannot make them.

The three twins of the seed article's examples are marked ``seed twin``: the article trains on random data,
so the effect it describes needs learnable data to show (see ``examples/seed/``).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers

from deadpan.scenarios import datasets
from deadpan.scenarios.registry import scenario


def _np(split: Any) -> tuple[np.ndarray, ...]:
    return tuple(t.numpy() for t in split)


def mlp(d_in: int, d_out: int, out_act: str | None, hidden: int = 64, act: str = "relu", **kw: Any) -> Any:
    return keras.Sequential(
        [
            keras.Input((d_in,)),
            layers.Dense(hidden, activation=act, **kw),
            layers.Dense(hidden, activation=act, **kw),
            layers.Dense(d_out, activation=out_act),
        ]
    )


#: Plain SGD's learning rate where a broken scenario's twin needs one (the learning-rate scenarios).
SGD_LR = 0.1


def keras_scenario(name: str, expected: str | None, description: str, demo: bool = False) -> Any:
    return scenario(f"keras-{name}", expected, description, demo=demo, framework="keras")


# --- healthy -----------------------------------------------------------------------------------------------


@keras_scenario(
    "healthy-digits", None, "MLP on 8x8 digits, softmax + sparse_categorical_crossentropy", demo=True
)
def healthy_digits() -> None:
    keras.utils.set_random_seed(0)
    x, y, xt, yt = _np(datasets.digits())
    model = mlp(64, 10, "softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=15, batch_size=64, validation_data=(xt, yt), verbose=0)


@keras_scenario("healthy-regression", None, "MLP regression on the diabetes data with MSE")
def healthy_regression() -> None:
    keras.utils.set_random_seed(0)
    x, y, xt, yt = _np(datasets.diabetes())
    model = mlp(10, 1, None, hidden=32)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=40, batch_size=64, validation_data=(xt, yt), verbose=0)


@keras_scenario("healthy-binary", None, "breast cancer, one sigmoid unit and binary_crossentropy")
def healthy_binary() -> None:
    keras.utils.set_random_seed(0)
    x, y, xt, yt = _np(datasets.breast_cancer())
    model = mlp(30, 1, "sigmoid", hidden=32)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=20, batch_size=32, validation_data=(xt, yt), verbose=0)


@keras_scenario("healthy-cnn", None, "small CNN on 8x8 digit images with dropout and batch norm")
def healthy_cnn() -> None:
    keras.utils.set_random_seed(0)
    x, y, xt, yt = _np(datasets.digits())
    x, xt = x.reshape(-1, 8, 8, 1), xt.reshape(-1, 8, 8, 1)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=10, batch_size=64, validation_data=(xt, yt), verbose=0)


# --- data --------------------------------------------------------------------------------------------------


@keras_scenario(
    "imbalanced-weak-signal",
    "data.imbalance",
    "seed twin: 97/3 classes, weak signal: always class 0",
    demo=True,
)
def imbalanced_weak_signal() -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.imbalanced(minority=0.03))
    model = mlp(10, 1, "sigmoid", hidden=32)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=10, batch_size=64, verbose=0)


@keras_scenario(
    "random-labels", "data.no_signal", "random inputs with random labels (the seed article's data)"
)
def random_labels() -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.noise())
    model = mlp(20, 1, "sigmoid", hidden=128)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)


@keras_scenario("single-label", "data.labels", "every training label is the same class")
def single_label() -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.digits())
    y = np.zeros_like(y)  # a label-loading bug: every label ends up 0
    model = mlp(64, 10, "softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)


@keras_scenario("unscaled-inputs", "data.inputs", "raw features in the thousands with SGD")
def unscaled_inputs(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.digits())
    if fault:
        x = x * 1000 + 5000  # e.g. raw sensor counts, never standardised
    model = mlp(64, 10, "softmax")
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)


@keras_scenario("duplicated-samples", "data.diversity", "12 distinct images repeated to fill the data set")
def duplicated_samples() -> None:
    keras.utils.set_random_seed(0)
    x, y, xt, yt = _np(datasets.digits())
    x, y = np.tile(x[:12], (100, 1)), np.tile(y[:12], 100)  # the same 12 samples over and over
    model = mlp(64, 10, "softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=5, batch_size=64, validation_data=(xt, yt), verbose=0)


# --- model -------------------------------------------------------------------------------------------------


@keras_scenario(
    "one-unit-circles", "model.capacity", "seed twin: one sigmoid unit on concentric circles", demo=True
)
def one_unit_circles(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.circles())
    one_unit = keras.Sequential([keras.Input((2,)), layers.Dense(1, activation="sigmoid")])
    model = one_unit if fault else mlp(2, 1, "sigmoid", hidden=32)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)


@keras_scenario("linear-stack-circles", "model.capacity", "three Dense layers with no activation")
def linear_stack_circles(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.circles())
    model = keras.Sequential(
        [
            keras.Input((2,)),
            layers.Dense(32, activation=None if fault else "relu"),
            layers.Dense(32, activation=None if fault else "relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)


@keras_scenario("softmax-one-unit", "model.output", "Dense(1, activation='softmax') for a binary task")
def softmax_one_unit(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.breast_cancer())
    model = mlp(30, 1, "softmax" if fault else "sigmoid", hidden=32)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)


@keras_scenario("relu-regression-head", "model.output", "relu on the regression output, targets below zero")
def relu_regression_head(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.diabetes())
    y = y - 3.0  # standardised targets shifted: almost all negative
    model = mlp(10, 1, "relu" if fault else None, hidden=32)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(x, y, epochs=20, batch_size=64, verbose=0)


@keras_scenario("dead-relu-bias", "model.dead_units", "first-layer bias initialised very negative")
def dead_relu_bias(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.digits())
    model = keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(
                64, activation="relu", bias_initializer=keras.initializers.Constant(-20.0 if fault else 0.0)
            ),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)


@keras_scenario("saturated-tanh", "model.saturation", "tanh hidden layer pushed to +1 by a large bias")
def saturated_tanh(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.digits())
    model = keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(
                64, activation="tanh", bias_initializer=keras.initializers.Constant(20.0 if fault else 0.0)
            ),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)


# --- init --------------------------------------------------------------------------------------------------


@keras_scenario("zero-init", "init.symmetry", "kernel_initializer='zeros' on every layer", demo=True)
def zero_init(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.digits())
    init = "zeros" if fault else "glorot_uniform"
    model = keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(64, activation="relu", kernel_initializer=init),
            layers.Dense(64, activation="relu", kernel_initializer=init),
            layers.Dense(10, activation="softmax", kernel_initializer=init),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)


@keras_scenario("huge-init", "init.scale", "RandomNormal(stddev=5) in a deep tanh network")
def huge_init(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.digits())
    init = keras.initializers.RandomNormal(stddev=5.0) if fault else "glorot_uniform"
    model = keras.Sequential(
        [keras.Input((64,))]
        + [layers.Dense(64, activation="tanh", kernel_initializer=init) for _ in range(4)]
        + [layers.Dense(10, activation="softmax", kernel_initializer=init)]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)


# --- loss --------------------------------------------------------------------------------------------------


@keras_scenario(
    "categorical-ce-one-unit",
    "loss.mismatch",
    "categorical_crossentropy on Dense(1, activation='sigmoid'): the loss is exactly 0",
    demo=True,
)
def categorical_ce_one_unit(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.breast_cancer())
    model = mlp(30, 1, "sigmoid", hidden=32)
    loss = "categorical_crossentropy" if fault else "binary_crossentropy"
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)


@keras_scenario("softmax-from-logits", "loss.mismatch", "softmax output with from_logits=True")
def softmax_from_logits(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.digits())
    model = mlp(64, 10, "softmax")
    model.compile(
        optimizer=keras.optimizers.SGD(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=fault),
    )
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)


@keras_scenario(
    "mse-onehot-one-unit", "loss.mismatch", "mse with one-hot [n, 2] targets on a Dense(1) output: broadcasts"
)
def mse_onehot_one_unit(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.breast_cancer())
    if fault:
        y = keras.utils.to_categorical(y, 2)  # one-hot targets, but the model has one output unit
    model = mlp(30, 1, "sigmoid", hidden=32)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=10, batch_size=32, verbose=0)


# --- optimisation ------------------------------------------------------------------------------------------


@keras_scenario("lr-too-high", "optim.lr_too_high", "SGD with learning rate 5", demo=True)
def lr_too_high(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.digits())
    model = mlp(64, 10, "softmax")
    model.compile(
        optimizer=keras.optimizers.SGD(5.0 if fault else SGD_LR), loss="sparse_categorical_crossentropy"
    )
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)


@keras_scenario("lr-too-low", "optim.lr_too_low", "SGD with learning rate 1e-6")
def lr_too_low(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.digits())
    model = mlp(64, 10, "softmax")
    model.compile(
        optimizer=keras.optimizers.SGD(1e-6 if fault else SGD_LR), loss="sparse_categorical_crossentropy"
    )
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)


# --- training ----------------------------------------------------------------------------------------------


@keras_scenario("too-short", "train.too_short", "plain SGD stopped after 2 epochs while the loss still falls")
def too_short(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.digits())
    model = mlp(64, 10, "softmax")
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2 if fault else 12, batch_size=64, verbose=0)


@keras_scenario(
    "overfit-small-noisy",
    "train.overfit",
    "seed twin: a large unregularised network on a small noisy data set, validation_split=0.2",
)
def overfit_small_noisy() -> None:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 20)).astype("float32")
    y = ((x[:, 0] + 0.8 * rng.normal(size=150)) > 0).astype("float32")  # one weak feature, noisy labels
    model = keras.Sequential(
        [
            keras.Input((20,)),
            layers.Dense(256, activation="relu"),
            layers.Dense(256, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=60, batch_size=32, validation_split=0.2, verbose=0)


@keras_scenario("l2-collapse", "train.over_regularized", "kernel_regularizer=l2(1.0) on every layer")
def l2_collapse(fault: bool = True) -> None:
    keras.utils.set_random_seed(0)
    x, y, _, _ = _np(datasets.digits())
    reg = keras.regularizers.l2(1.0) if fault else None
    model = mlp(64, 10, "softmax", kernel_regularizer=reg)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=10, batch_size=64, verbose=0)
