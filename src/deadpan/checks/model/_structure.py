"""Shared reading of the model's layer list for the model and init checks. Not a check."""

from __future__ import annotations

from deadpan.evidence import LayerInfo

#: Normalisation layers carry parameters but are not weight layers with "units" of their own.
NORM_KINDS = ("BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm", "LocalResponseNorm", "RMSNorm")
#: Activation names that mean "no activation".
LINEAR_NAMES = ("linear", "identity", "none")
#: Activations that turn a row of outputs into probabilities or log-probabilities over the row.
SOFTMAX_NAMES = ("softmax", "log_softmax", "logsoftmax", "softmax2d")
SOFTMAX_KINDS = ("Softmax", "LogSoftmax", "Softmax2d")
#: Fully connected layers (PyTorch and Keras names).
DENSE_KINDS = ("Linear", "LazyLinear", "Dense", "Bilinear")


def activation(layer: LayerInfo) -> str | None:
    """The layer's activation family in lower case, None for none / linear."""
    if layer.activation is None:
        return None
    name = layer.activation.lower()
    return None if name in LINEAR_NAMES else name


def is_norm(layer: LayerInfo) -> bool:
    return layer.kind.startswith(NORM_KINDS)


def weight_layer_indices(layers: tuple[LayerInfo, ...]) -> list[int]:
    """Indices of the layers with units of their own (Linear, Conv, Dense, RNN ...), in forward order."""
    return [i for i, layer in enumerate(layers) if layer.units is not None and not is_norm(layer)]


def is_softmax(layer: LayerInfo) -> bool:
    act = activation(layer)
    return layer.kind in SOFTMAX_KINDS or (act is not None and act in SOFTMAX_NAMES)


def is_dense(layer: LayerInfo) -> bool:
    return layer.kind in DENSE_KINDS
