"""The probes for Keras models: outputs, signal through depth, input dependence, overfit one batch and the
LR range test. Training probes work on ``keras.models.clone_model`` copies compiled with the user's loss;
the user's model is only ever called in inference mode.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deadpan.evidence import InputDependence, LayerSignal, LRRangeProbe, OverfitProbe, Task
from deadpan.keras import backend
from deadpan.keras.data import feed_len, feed_rows, map_parts
from deadpan.keras.describe import ACTIVATION_LAYERS, _family, flat_layers
from deadpan.probes.recipes import LR_ROWS, LR_START, OVERFIT_LR, OVERFIT_ROWS, OVERFIT_STEPS, lr_sweep
from deadpan.probes.signal import signal
from deadpan.probes.task import predictions, score

#: Rows per forward pass when probing (bounded memory for large inputs).
CHUNK = 256


def judged_view(model: Any, head: str | None) -> Any:
    """The model as deadpan judges it: itself, or for a functional model with several outputs a model of the
    same layers (shared, not copied) ending at the output ``head`` (see
    :func:`~deadpan.keras.describe.judged_output`), so every probe sees one output."""
    if head is None or not getattr(model, "outputs", None):
        return model
    import keras

    index = list(model.output_names).index(head)
    return keras.Model(model.inputs, model.outputs[index])


def outputs(model: Any, x: Any) -> np.ndarray:
    """The model's (first) output over ``x`` (one array or several inputs) in inference mode, in chunks."""
    n = feed_len(x)
    return np.concatenate(
        [backend.call(model, feed_rows(x, slice(i, i + CHUNK))) for i in range(0, n, CHUNK)]
    )


def _flipped(a: np.ndarray) -> np.ndarray:
    """Each row's features in reverse order (the row's shape kept)."""
    return a.reshape(len(a), -1)[:, ::-1].reshape(a.shape).copy()


def input_dependence(model: Any, x: Any) -> InputDependence | None:
    """Output change when the input is zeroed and when each sample's features are reversed, relative to the
    output's own across-sample spread (as the PyTorch probe). Several inputs are zeroed (reversed)
    together."""
    kinds: list[str] = []
    map_parts(lambda a: kinds.append(a.dtype.kind), x)
    if any(kind != "f" for kind in kinds):
        return None
    x = feed_rows(x, slice(0, CHUNK))
    n = feed_len(x)
    real = outputs(model, x).reshape(n, -1).astype(np.float64)
    scale = float(real.std(0).mean()) + float(np.abs(real).mean()) * 1e-3 + 1e-12
    zeroed = outputs(model, map_parts(np.zeros_like, x)).reshape(n, -1)
    flipped = outputs(model, map_parts(_flipped, x)).reshape(n, -1)
    return InputDependence(
        zeroed_change=float(np.abs(real - zeroed).mean()) / scale,
        permuted_change=float(np.abs(real - flipped).mean()) / scale,
    )


def layer_signals(model: Any, x: Any) -> tuple[LayerSignal, ...]:
    """Each layer's output on ``x`` (channels last, as Keras lays them out).

    A Sequential model is run layer by layer; a functional model through a model with every layer's output;
    a subclassed model has no layer graph deadpan can read, and gets no layer signals.
    """
    import keras

    x = feed_rows(x, slice(0, CHUNK))
    layers = flat_layers(model)
    tensors: list[tuple[Any, Any]] = []
    with backend.no_grad():
        if isinstance(model, keras.Sequential):
            h = x
            for layer in layers:
                h = layer(h, training=False)
                tensors.append((layer, h))
        elif getattr(model, "inputs", None) and type(model).__name__ == "Functional":
            probe = keras.Model(model.inputs, [layer.output for layer in layers])
            outs = probe(x, training=False)
            tensors = list(zip(layers, outs if isinstance(outs, list | tuple) else [outs], strict=False))
        else:
            return ()
    found: list[LayerSignal] = []
    for layer, out in tensors:
        arr = backend.to_numpy(out)
        if arr.dtype.kind != "f" or arr.ndim < 1:
            continue
        values = arr.astype(np.float32)
        kind = type(layer).__name__
        if kind in ACTIVATION_LAYERS:
            fam = ACTIVATION_LAYERS[kind] or _family(getattr(layer, "activation", None))
            found.append(signal(layer.name, kind, fam, values, channels_first=False))
            continue
        found.append(signal(layer.name, kind, None, values, channels_first=False))
        fam = _family(getattr(layer, "activation", None))
        if fam is not None:
            found.append(signal(f"{layer.name}/{fam}", "Activation", fam, values, channels_first=False))
    return tuple(found)


def clone(model: Any, values: list[np.ndarray] | None, source: Any = None) -> Any:
    """A copy of the model's architecture with ``values`` (or the model's current weights) loaded.

    ``values`` are ``source.get_weights()`` (default: ``model``'s); ``model`` may be a
    :func:`judged_view` of ``source``, whose weights are a subset of it, picked by identity."""
    import keras

    copy = keras.models.clone_model(model)
    if values is not None and source is not None and source is not model:
        index = {id(v): i for i, v in enumerate(source.weights)}
        values = [values[index[id(v)]] for v in model.weights]
    copy.set_weights(values if values is not None else model.get_weights())
    return copy


def _loss_of(result: Any) -> float:
    if isinstance(result, list | tuple):
        result = result[0]
    if isinstance(result, dict):
        result = result.get("loss", next(iter(result.values())))
    return float(np.asarray(backend.to_numpy(result), dtype=np.float64).reshape(-1)[0])


def overfit_one_batch(
    model: Any,
    values: list[np.ndarray] | None,
    loss: Any,
    x: Any,
    y: np.ndarray,
    task: Task,
    source: Any = None,
) -> OverfitProbe | None:
    """Train a copy on 16 rows with Adam for 30 steps (the same recipe as the PyTorch probe)."""
    import keras

    if not model.trainable_weights:
        return None
    copy = clone(model, values, source)
    copy.compile(optimizer=keras.optimizers.Adam(OVERFIT_LR), loss=loss)
    xs, ys = feed_rows(x, slice(0, OVERFIT_ROWS)), y[:OVERFIT_ROWS]

    def measure() -> tuple[float, float]:
        value = _loss_of(copy.test_on_batch(xs, ys))
        out = np.nan_to_num(outputs(copy, xs)).astype(np.float32)
        s, _ = score(task, predictions(task, out, np.asarray(ys)))
        return value, s

    first_loss, first_score = measure()
    for _ in range(OVERFIT_STEPS):
        if not math.isfinite(_loss_of(copy.train_on_batch(xs, ys))):
            break
    last_loss, last_score = measure()
    return OverfitProbe(OVERFIT_STEPS, first_loss, last_loss, first_score, last_score)


def _optimizer_like(template: Any, lr: float) -> Any:
    """A fresh optimizer of the user's class and settings but ``lr`` (SGD with momentum when unknown)."""
    import keras

    if template is not None and not isinstance(template, str):
        try:
            cfg = dict(template.get_config())
            cfg["learning_rate"] = lr
            return type(template).from_config(cfg)
        except Exception:
            pass
    return keras.optimizers.SGD(learning_rate=lr, momentum=0.9)


def lr_range_test(
    model: Any,
    values: list[np.ndarray] | None,
    loss: Any,
    x: Any,
    y: np.ndarray,
    template: Any,
    user_lr: float | None,
    source: Any = None,
) -> LRRangeProbe | None:
    if not model.trainable_weights or not feed_len(x):
        return None
    copy = clone(model, values, source)
    optimizer = _optimizer_like(template, LR_START)
    copy.compile(optimizer=optimizer, loss=loss)
    n = max(1, feed_len(x) // LR_ROWS)

    def step(i: int, lr: float) -> float:
        optimizer.learning_rate = lr
        rows = slice((i % n) * LR_ROWS, (i % n + 1) * LR_ROWS)
        return _loss_of(copy.train_on_batch(feed_rows(x, rows), y[rows]))

    return lr_sweep(step, user_lr)
