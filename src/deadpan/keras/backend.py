"""The one place that reads backend tensors and variables, and runs a Keras model without side effects.

Keras 3 hides the backend behind ``keras.ops`` for most things; what it does not hide is gradient tracking
(the torch backend records an autograd graph on every call unless told not to) and how a variable's value
becomes a NumPy array. Both are handled here so the rest of :mod:`deadpan.keras` is backend-free.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np


def keras_module() -> Any:
    import keras

    return keras


def name() -> str:
    """The active Keras backend: "tensorflow", "torch", "jax" ..."""
    return str(keras_module().backend.backend())


def is_keras_model(obj: Any) -> bool:
    """True for a Keras 3 model, without importing Keras when the user never did."""
    import sys

    if "keras" not in sys.modules:
        return False
    try:
        return isinstance(obj, sys.modules["keras"].Model)
    except Exception:
        return False


def to_numpy(value: Any) -> np.ndarray:
    """A backend tensor, a Keras variable or an array-like as a NumPy array (a copy)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    keras = keras_module()
    if isinstance(value, keras.Variable):
        value = value.value  # the backend tensor (NumPy 2 warns on converting the Variable itself)
    return np.array(keras.ops.convert_to_numpy(value))


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Run model calls without recording gradients (the torch backend records them by default)."""
    if name() == "torch":
        import torch

        with torch.no_grad():
            yield
    else:
        yield


def call(model: Any, x: Any) -> np.ndarray:
    """The model's output on ``x`` in inference mode, as NumPy; first output if there are several."""
    with no_grad():
        out = model(x, training=False)
    if isinstance(out, dict):
        out = next(iter(out.values()))
    if isinstance(out, list | tuple):
        out = out[0]
    return to_numpy(out)


def weights_numpy(variables: Any) -> list[np.ndarray]:
    """Copies of the variables' values. On TensorFlow all are read by one op (``tf.identity_n``): one eager
    read per variable costs about 100 us, which at a sampled step is as long as a small model's step."""
    variables = list(variables)
    if variables and name() == "tensorflow":
        import tensorflow as tf

        return [np.array(t) for t in tf.identity_n([v.value for v in variables])]
    return [to_numpy(getattr(v, "value", v)) for v in variables]


def tracing() -> bool:
    """True inside a ``tf.function`` being traced: tensors are symbolic and have no values to read."""
    if name() != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.executing_eagerly()


@contextlib.contextmanager
def eager() -> Iterator[None]:
    """Variables read with their values even inside a ``tf.function`` trace (TensorFlow's init scope)."""
    if name() == "tensorflow":
        import tensorflow as tf

        with tf.init_scope():
            yield
    else:
        yield


def graph_position(tensor: Any) -> int | None:
    """The position of a traced function's argument among its graph's inputs (None for a tensor computed
    inside the function): later calls' tensor arguments come in the same order."""
    graph = getattr(tensor, "graph", None)
    for i, placeholder in enumerate(getattr(graph, "inputs", None) or ()):
        if placeholder is tensor:
            return i
    return None


def tensor_arguments(args: Any, kwargs: Any) -> list[Any]:
    """A ``tf.function`` call's tensor arguments, in the order its graph takes them."""
    import tensorflow as tf

    leaves = tf.nest.flatten((args, kwargs))
    return [a for a in leaves if isinstance(a, tf.Tensor | tf.Variable | np.ndarray)]


def tf_function_classes(keras: Any) -> list[type]:
    """On the TensorFlow backend, the class of ``tf.function`` objects (a custom loop's step is one); none
    on the others."""
    if keras.backend.backend() != "tensorflow":
        return []
    import tensorflow as tf

    return [type(tf.function(lambda: None))]


def is_scalar(value: Any) -> bool:
    """A zero-dimensional tensor or array (a loss value)."""
    shape = getattr(value, "shape", None)
    return shape is not None and len(shape) == 0
