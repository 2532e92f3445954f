"""The Keras training of a zoo task, written the way a Keras user writes it: ``Sequential``, ``compile``,
``fit`` with validation data. It reads the same :class:`~deadpan.zoo.config.Config` knobs as the PyTorch
training where Keras has them (``fit`` owns the loop, so loop bugs other than frozen layers do not exist).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deadpan.zoo import data, scoring
from deadpan.zoo.config import Config
from deadpan.zoo.tasks import TASKS, Task


def _initializers(cfg: Config, first: bool) -> dict[str, Any]:
    import keras

    kw: dict[str, Any] = {"use_bias": cfg.bias}
    if cfg.init == "zeros":
        kw.update(kernel_initializer="zeros", bias_initializer="zeros")
    elif cfg.init == "constant":
        c = keras.initializers.Constant(cfg.init_std)
        kw.update(kernel_initializer=c, bias_initializer=c)
    elif cfg.init == "normal":
        kw.update(kernel_initializer=keras.initializers.RandomNormal(stddev=cfg.init_std))
    if first and cfg.first_bias:
        kw["bias_initializer"] = keras.initializers.Constant(cfg.first_bias)
    if cfg.weight_decay:  # torch's coupled weight decay wd*w is the gradient of (wd/2)*||w||^2
        kw["kernel_regularizer"] = keras.regularizers.L2(cfg.weight_decay / 2)
    return kw


def build_model(task: Task, cfg: Config, width: int) -> Any:
    import keras
    from keras import layers

    stack: list[Any] = [keras.Input((width,))]
    for i, h in enumerate(cfg.hidden):
        stack.append(layers.Dense(h, activation=cfg.activation, **_initializers(cfg, first=i == 0)))
        if cfg.dropout:
            stack.append(layers.Dropout(cfg.dropout))
    if cfg.output_dropout:
        stack.append(layers.Dropout(cfg.output_dropout))
    stack.append(
        layers.Dense(
            cfg.output_units or task.outputs,
            activation=cfg.output_activation,
            **_initializers(cfg, first=not cfg.hidden),
        )
    )
    return keras.Sequential(stack)


def loss_and_targets(task: Task, cfg: Config, y: np.ndarray) -> tuple[Any, np.ndarray]:
    import keras

    probs = cfg.output_activation in ("softmax", "sigmoid")
    if cfg.loss == "from_logits":  # a logits loss fed probabilities
        probs = False
    elif cfg.loss == "probabilities":  # a probability loss fed logits
        probs = True
    if cfg.loss == "mse_ids":
        return "mse", y.astype(np.float32).reshape(-1, 1)
    if task.kind == "multiclass":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=not probs), y.astype(np.int64)
    if task.kind == "regression":
        return "mse", y.astype(np.float32).reshape(-1, 1)
    target = y.astype(np.float32).reshape(len(y), -1)
    if cfg.loss == "cross_entropy":
        return keras.losses.CategoricalCrossentropy(from_logits=not probs), target
    return keras.losses.BinaryCrossentropy(from_logits=not probs), target


def make_optimizer(cfg: Config) -> Any:
    import keras

    lr: Any = cfg.lr
    if cfg.schedule is not None:  # an epoch schedule applied every step
        lr = keras.optimizers.schedules.ExponentialDecay(
            cfg.lr, decay_steps=1, decay_rate=cfg.schedule[1], staircase=True
        )
    kw: dict[str, Any] = {"learning_rate": lr}
    if cfg.clip is not None:
        kw["clipnorm"] = cfg.clip
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(momentum=cfg.momentum, **kw)
    if cfg.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(**kw)
    if cfg.optimizer == "adagrad":
        return keras.optimizers.Adagrad(**kw)
    return keras.optimizers.Adam(**kw)


def train(cfg: Config, seed: int = 0) -> float:
    """Train ``cfg`` with ``seed`` through ``Model.fit`` and return its held-out score."""
    import keras

    task = TASKS[cfg.task]
    split = data.apply(data.LOADERS[task.data](), cfg.data, seed)
    keras.utils.set_random_seed(seed)
    model = build_model(task, cfg, split.x.shape[1])
    loss, y = loss_and_targets(task, cfg, split.y)
    _, yt = loss_and_targets(task, cfg, split.yt)
    if "partial_params" in cfg.bugs:  # every layer but the output frozen by mistake
        for layer in model.layers[:-1]:
            layer.trainable = False
    model.compile(optimizer=make_optimizer(cfg), loss=loss)
    model.fit(
        split.x,
        y,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size or len(split.x),
        validation_data=(split.xt, yt),
        verbose=0,
    )
    out = np.asarray(keras.ops.convert_to_numpy(model(split.xt, training=False)))
    probabilities = cfg.output_activation in ("sigmoid", "softmax")
    return scoring.score(task.kind, out.reshape(len(out), -1), split.yt, probabilities)
