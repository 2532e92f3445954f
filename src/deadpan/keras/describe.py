"""Read a Keras model's structure, compiled loss and optimizer into deadpan's framework-neutral terms.

Keras names things differently from PyTorch (``Dense`` with an ``activation=`` argument rather than a
``Linear`` followed by a ``ReLU`` module; ``binary_crossentropy(from_logits=False)`` rather than
``binary_cross_entropy``), and the checks speak one vocabulary. The translation lives here:

- layers: a ``Dense``/``Conv`` layer with a non-linear ``activation`` becomes two entries, the layer and an
  activation entry named ``<layer>/<activation>``, so the structure checks read Keras and PyTorch alike;
- weights: kernels are transposed to PyTorch's (out, in, ...) layout so fan-in and fan-out mean the same;
- losses: mapped to the PyTorch function with the same semantics (see :data:`LOSS_NAMES`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from deadpan.evidence import LayerInfo, OptimizerInfo

#: Keras activation name -> activation family (the names the PyTorch side uses).
ACTIVATION_FAMILY: dict[str, str] = {
    "relu": "relu",
    "relu6": "relu",
    "leaky_relu": "leaky_relu",
    "elu": "elu",
    "selu": "elu",
    "celu": "elu",
    "gelu": "gelu",
    "silu": "gelu",
    "swish": "gelu",
    "mish": "gelu",
    "softplus": "softplus",
    "sigmoid": "sigmoid",
    "hard_sigmoid": "sigmoid",
    "tanh": "tanh",
    "hard_tanh": "tanh",
    "softmax": "softmax",
    "log_softmax": "log_softmax",
    "exponential": "exponential",
}
#: Activation layers (class name -> family when the class fixes it).
ACTIVATION_LAYERS: dict[str, str | None] = {
    "Activation": None,
    "ReLU": "relu",
    "LeakyReLU": "leaky_relu",
    "PReLU": "leaky_relu",
    "ELU": "elu",
    "Softmax": "softmax",
}

#: Keras loss name -> (PyTorch function with the same meaning when ``from_logits`` is False, ... when True).
#: ``cross_entropy_probs`` is the categorical cross-entropy of probabilities (Keras' default), which
#: PyTorch has no single function for (``nll_loss`` of the log of the probabilities).
LOSS_NAMES: dict[str, tuple[str, str]] = {
    "binary_crossentropy": ("binary_cross_entropy", "binary_cross_entropy_with_logits"),
    "binary_focal_crossentropy": ("binary_cross_entropy", "binary_cross_entropy_with_logits"),
    "categorical_crossentropy": ("cross_entropy_probs", "cross_entropy"),
    "sparse_categorical_crossentropy": ("cross_entropy_probs", "cross_entropy"),
    "categorical_focal_crossentropy": ("cross_entropy_probs", "cross_entropy"),
    "mean_squared_error": ("mse_loss", "mse_loss"),
    "mean_absolute_error": ("l1_loss", "l1_loss"),
    "huber": ("huber_loss", "huber_loss"),
    "log_cosh": ("huber_loss", "huber_loss"),
    "mean_squared_logarithmic_error": ("mse_loss", "mse_loss"),
    "hinge": ("soft_margin_loss", "soft_margin_loss"),
    "squared_hinge": ("soft_margin_loss", "soft_margin_loss"),
    "categorical_hinge": ("multi_margin_loss", "multi_margin_loss"),
    "kl_divergence": ("kl_div", "kl_div"),
    "poisson": ("poisson_nll_loss", "poisson_nll_loss"),
}
LOSS_ALIASES: dict[str, str] = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "msle": "mean_squared_logarithmic_error",
    "bce": "binary_crossentropy",
    "kld": "kl_divergence",
    "logcosh": "log_cosh",
    "huber_loss": "huber",
    "kullback_leibler_divergence": "kl_divergence",
}
#: Losses whose targets are class ids (one column), not one-hot rows.
SPARSE_LOSSES = ("sparse_categorical_crossentropy",)


@dataclass(frozen=True)
class KerasLoss:
    """The compiled loss: the name the user wrote, its PyTorch equivalent, and its arguments."""

    keras_name: str  # "binary_crossentropy", "my_loss" ...
    function: str  # PyTorch vocabulary: "binary_cross_entropy", "cross_entropy" ...
    from_logits: bool
    label_smoothing: float = 0.0
    #: A Keras loss, or a user function deadpan cannot read (then ``function`` is "unknown").
    known: bool = True


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def judged_output(model: Any) -> str | None:
    """The output deadpan judges when the model has several: the first of Keras' ``output_names`` (the
    order of ``model.outputs``; a dict of outputs is sorted by name). None for a model with one output.

    The checks read one output, its targets and its loss; which head a collapse hides in is not known
    beforehand, so the choice is Keras' own order, not a guess at the "main" head, and the report says
    which outputs went unjudged."""
    names = list(getattr(model, "output_names", None) or [])
    return str(names[0]) if len(names) > 1 else None


def head_loss(loss: Any, head: str | None) -> Any:
    """The loss of output ``head`` from a compiled loss given per output (a dict by name or a list in
    output order); a single loss as it is."""
    if isinstance(loss, dict):
        if head is not None and head in loss:
            return loss[head]
        return next(iter(loss.values())) if len(loss) == 1 else None
    if isinstance(loss, list | tuple):
        return loss[0] if loss else None
    return loss


def read_loss(loss: Any, head: str | None = None) -> KerasLoss | None:
    """Translate ``model.loss`` (a string, a Keras loss object or function, or a user callable); a loss per
    output is read for the output ``head`` (see :func:`judged_output`)."""
    if loss is None:
        return None
    if isinstance(loss, dict | list | tuple):
        loss = head_loss(loss, head)
        if loss is None:
            return KerasLoss("several losses", "unknown", False, known=False)
    config: dict[str, Any] = {}
    if isinstance(loss, str):
        raw = loss
    elif hasattr(loss, "get_config"):  # a Keras Loss object (LossFunctionWrapper keeps its function in fn)
        fn = getattr(loss, "fn", None)
        raw = getattr(fn, "__name__", None) or _snake(type(loss).__name__)
        try:
            config = dict(loss.get_config())
        except Exception:
            config = {}
    else:
        raw = getattr(loss, "__name__", type(loss).__name__)
    key = LOSS_ALIASES.get(raw.lower(), raw.lower())
    if key not in LOSS_NAMES:
        snake = _snake(raw)
        key = LOSS_ALIASES.get(snake, snake)
    from_logits = bool(config.get("from_logits", False))
    smoothing = float(config.get("label_smoothing", 0.0) or 0.0)
    names = LOSS_NAMES.get(key)
    if names is None:
        return KerasLoss(raw, "unknown", from_logits, smoothing, known=False)
    return KerasLoss(key, names[1] if from_logits else names[0], from_logits, smoothing)


def _family(activation: Any) -> str | None:
    """Activation family of a Keras activation (a name, a function or None); None for linear."""
    if activation is None:
        return None
    label = activation if isinstance(activation, str) else getattr(activation, "__name__", str(activation))
    label = label.lower()
    if label in ("linear", "identity", "none"):
        return None
    return ACTIVATION_FAMILY.get(label, label)


def _units(layer: Any) -> int | None:
    for attr in ("units", "filters", "output_dim"):
        v = getattr(layer, attr, None)
        if isinstance(v, int):
            return v
    return None


def flat_layers(model: Any) -> list[Any]:
    """The model's layers in order, nested models (a Sequential inside a Sequential) expanded."""
    out: list[Any] = []
    for layer in getattr(model, "layers", []):
        if hasattr(layer, "layers") and getattr(layer, "layers", None):
            out.extend(flat_layers(layer))
        elif type(layer).__name__ != "InputLayer":
            out.append(layer)
    return out


def loaded_layers(model: Any, variables: set[int]) -> tuple[str, ...]:
    """``<layer>.weights`` for each of the model's layers whose variables a checkpoint load filled (by
    identity), in the parameter-name form the checks read (a layer's names start with ``<layer>.``)."""
    return tuple(
        f"{layer.name}.weights"
        for layer in flat_layers(model)
        if any(id(v) in variables for v in getattr(layer, "weights", []))
    )


def _count(layer: Any, trainable_only: bool = False) -> int:
    variables = layer.trainable_weights if trainable_only else layer.weights
    return int(sum(int(np.prod(v.shape)) for v in variables))


def layer_infos(model: Any) -> tuple[LayerInfo, ...]:
    """One entry per layer, plus an activation entry after each layer with a non-linear ``activation``."""
    infos: list[LayerInfo] = []
    for layer in flat_layers(model):
        kind = type(layer).__name__
        n = _count(layer)
        trainable = bool(getattr(layer, "trainable", True))
        if kind in ACTIVATION_LAYERS:
            fam = ACTIVATION_LAYERS[kind] or _family(getattr(layer, "activation", None))
            infos.append(LayerInfo(layer.name, kind, fam, None, n, trainable))
            continue
        rate = getattr(layer, "rate", None) if "Dropout" in kind else None
        dropout = float(rate) if isinstance(rate, int | float) else None
        infos.append(LayerInfo(layer.name, kind, None, _units(layer), n, trainable, dropout))
        fam = _family(getattr(layer, "activation", None))
        if fam is not None:
            infos.append(LayerInfo(f"{layer.name}/{fam}", "Activation", fam, None, 0, trainable))
    return tuple(infos)


def torch_layout(kernel: np.ndarray) -> np.ndarray:
    """A Keras kernel ``(..., in, out)`` in PyTorch's ``(out, in, ...)`` layout."""
    if kernel.ndim < 2:
        return kernel
    return np.moveaxis(kernel, [-1, -2], [0, 1])


def kernels(model: Any, values: list[np.ndarray] | None = None) -> list[tuple[str, str, np.ndarray]]:
    """(layer name, kind, kernel in PyTorch layout) for each Dense/Conv/Embedding/RNN kernel.

    ``values`` are ``model.get_weights()`` taken earlier (the initial weights); else the current ones.
    """
    from deadpan.keras.backend import to_numpy

    index = {id(v): i for i, v in enumerate(model.weights)}
    found = []
    for layer in flat_layers(model):
        kind = type(layer).__name__
        for attr in ("kernel", "embeddings", "depthwise_kernel"):
            var = getattr(layer, attr, None)
            if var is None or not hasattr(var, "shape") or len(var.shape) < 2:
                continue
            i = index.get(id(var))
            value = values[i] if values is not None and i is not None else to_numpy(var)
            w = value if attr == "embeddings" else torch_layout(np.asarray(value))
            found.append((layer.name, "Embedding" if attr == "embeddings" else kind, np.asarray(w)))
            break
        else:
            cell = getattr(layer, "cell", None)
            var = getattr(cell, "kernel", None) if cell is not None else None
            if var is not None and len(var.shape) >= 2:
                i = index.get(id(var))
                value = values[i] if values is not None and i is not None else to_numpy(var)
                found.append((layer.name, kind, torch_layout(np.asarray(value))))
    return found


def explicit_l2(model: Any) -> float:
    """Largest ``kernel_regularizer`` L2 factor, as the equivalent weight decay (``l2 * sum(w**2)`` adds
    ``2 * l2 * w`` to the gradient, which is PyTorch's ``weight_decay=2 * l2``)."""
    worst = 0.0
    for layer in flat_layers(model):
        for attr in ("kernel_regularizer", "bias_regularizer"):
            reg = getattr(layer, attr, None)
            if reg is None:
                continue
            try:
                cfg = reg.get_config()
            except Exception:
                continue
            worst = max(worst, 2.0 * float(cfg.get("l2", 0.0) or 0.0))
    return worst


def optimizer_info(optimizer: Any) -> OptimizerInfo | None:
    if optimizer is None or isinstance(optimizer, str):
        return None
    from deadpan.keras.backend import to_numpy

    name = type(optimizer).__name__
    try:
        lr = float(to_numpy(optimizer.learning_rate))
    except Exception:
        lr = 0.0
    try:
        cfg = optimizer.get_config()
    except Exception:
        cfg = {}
    momentum = cfg.get("momentum", cfg.get("beta_1", 0.0)) or 0.0
    wd = cfg.get("weight_decay") or 0.0
    clips = [float(v) for k in ("clipnorm", "global_clipnorm") if (v := cfg.get(k)) is not None]
    return OptimizerInfo(
        name=name,
        lr=lr,
        weight_decay=float(wd),
        momentum=float(momentum),
        decoupled_weight_decay=True,  # Keras 3 optimizers apply weight_decay to the weights, decoupled
        clip_norm=min(clips) if clips else None,
    )


def has_dropout_or_norm(model: Any) -> bool:
    return any(
        "Dropout" in type(layer).__name__ or "Normalization" in type(layer).__name__
        for layer in flat_layers(model)
    )
