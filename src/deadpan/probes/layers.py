"""Signal through depth: every layer's activations on a probe batch, in execution order.

Leaf modules are hooked; activations written as functions in ``forward`` (``F.relu(x)``, ``x.softmax(1)``)
are caught by wrapping those functions for the duration of the probe, so a model without activation modules
is still seen to have (or lack) non-linearities.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from deadpan.evidence import LayerInfo, LayerSignal
from deadpan.probes.arrays import to_numpy
from deadpan.probes.signal import signal
from deadpan.probes.tensors import first_tensor

#: Module class name -> activation family.
ACTIVATIONS: dict[str, str] = {
    "ReLU": "relu",
    "ReLU6": "relu",
    "RReLU": "leaky_relu",
    "LeakyReLU": "leaky_relu",
    "PReLU": "leaky_relu",
    "ELU": "elu",
    "SELU": "elu",
    "CELU": "elu",
    "GELU": "gelu",
    "SiLU": "gelu",
    "Mish": "gelu",
    "Softplus": "softplus",
    "Sigmoid": "sigmoid",
    "Hardsigmoid": "sigmoid",
    "Tanh": "tanh",
    "Hardtanh": "tanh",
    "Softmax": "softmax",
    "LogSoftmax": "log_softmax",
}

#: Functions (module, attribute, family) wrapped during the probe to see functional activations.
FUNCTIONAL: tuple[tuple[Any, str, str], ...] = (
    (F, "relu", "relu"),
    (torch, "relu", "relu"),
    (torch.Tensor, "relu", "relu"),
    (F, "leaky_relu", "leaky_relu"),
    (F, "gelu", "gelu"),
    (F, "silu", "gelu"),
    (F, "elu", "elu"),
    (torch, "sigmoid", "sigmoid"),
    (torch.Tensor, "sigmoid", "sigmoid"),
    (F, "sigmoid", "sigmoid"),
    (torch, "tanh", "tanh"),
    (torch.Tensor, "tanh", "tanh"),
    (F, "tanh", "tanh"),
    (F, "softmax", "softmax"),
    (torch, "softmax", "softmax"),
    (torch.Tensor, "softmax", "softmax"),
    (F, "log_softmax", "log_softmax"),
    (torch, "log_softmax", "log_softmax"),
    (torch.Tensor, "log_softmax", "log_softmax"),
)


def units_of(module: nn.Module) -> int | None:
    for attr in ("out_features", "out_channels", "embedding_dim", "hidden_size", "num_features"):
        v = getattr(module, attr, None)
        if isinstance(v, int):
            return v
    return None


#: Layers whose output has its units (channels) in dim 1: ``(n, channels, length)`` or ``(n, C, H, W)``.
CHANNELS_FIRST: tuple[type[nn.Module], ...] = (
    nn.modules.conv._ConvNd,
    nn.modules.batchnorm._BatchNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.GroupNorm,
    nn.modules.pooling._MaxPoolNd,
    nn.modules.pooling._AvgPoolNd,
    nn.modules.pooling._AdaptiveAvgPoolNd,
    nn.modules.pooling._AdaptiveMaxPoolNd,
)
#: Layers whose output has its units in the last dim: ``(n, seq, features)``.
CHANNELS_LAST: tuple[type[nn.Module], ...] = (
    nn.Linear,
    nn.Bilinear,
    nn.Embedding,
    nn.EmbeddingBag,
    nn.RNNBase,
    nn.LayerNorm,
    nn.MultiheadAttention,
    nn.TransformerEncoderLayer,
    nn.TransformerDecoderLayer,
)


@contextlib.contextmanager
def _functional_taps(record: Callable[[str, torch.Tensor], None], depth: list[int]) -> Iterator[None]:
    undo: list[Callable[[], None]] = []
    for owner, attr, family in FUNCTIONAL:
        original = getattr(owner, attr, None)
        if original is None:
            continue

        def make(orig: Any, fam: str) -> Any:
            @functools.wraps(orig)
            def tap(*a: Any, **k: Any) -> Any:
                out = orig(*a, **k)
                if depth[0] == 0 and isinstance(out, torch.Tensor):
                    depth[0] += 1  # nested functional calls (softmax -> exp ...) are not layers
                    try:
                        record(fam, out)
                    finally:
                        depth[0] -= 1
                return out

            return tap

        setattr(owner, attr, make(original, family))
        undo.append(functools.partial(setattr, owner, attr, original))
    try:
        yield
    finally:
        for u in reversed(undo):
            u()


def probe_layers(
    model: nn.Module, args: Any, kwargs: Any
) -> tuple[tuple[LayerInfo, ...], tuple[LayerSignal, ...]]:
    """Run ``model`` once on the batch; return layer infos and signals in execution order."""
    infos: list[LayerInfo] = []
    signals: list[LayerSignal] = []
    depth = [0]
    counter = [0]
    handles = []
    # Shape and unit layout of the last output seen: an activation, dropout or functional call that keeps
    # the shape keeps the layout of the layer before it (a ReLU after a Conv1d has channels in dim 1).
    last: list[Any] = [None, None]

    def layout(module: nn.Module | None, t: torch.Tensor) -> bool | None:
        if isinstance(module, CHANNELS_FIRST):
            found: bool | None = True
        elif isinstance(module, CHANNELS_LAST):
            found = False
        else:
            found = last[1] if last[0] == tuple(t.shape) else None
        last[:] = [tuple(t.shape), found]
        return found

    def record_functional(family: str, out: torch.Tensor) -> None:
        counter[0] += 1
        name = f"<{family}#{counter[0]}>"
        infos.append(LayerInfo(name=name, kind=f"F.{family}", activation=family))
        signals.append(signal(name, f"F.{family}", family, to_numpy(out), layout(None, out)))

    for name, mod in model.named_modules():
        if any(True for _ in mod.children()):
            continue  # leaf modules only

        def pre(m: nn.Module, a: Any) -> None:
            depth[0] += 1

        def post(m: nn.Module, a: Any, out: Any, name: str = name) -> None:
            depth[0] -= 1
            t = first_tensor(out)
            kind = type(m).__name__
            act = ACTIVATIONS.get(kind)
            n_params = sum(p.numel() for p in m.parameters(recurse=False))
            trainable = any(p.requires_grad for p in m.parameters(recurse=False)) if n_params else True
            rate = getattr(m, "p", None) if "Dropout" in kind else None
            dropout = float(rate) if isinstance(rate, int | float) else None
            infos.append(LayerInfo(name or "<root>", kind, act, units_of(m), n_params, trainable, dropout))
            if t is not None and t.dim() >= 1 and t.is_floating_point():
                signals.append(signal(name or "<root>", kind, act, to_numpy(t), layout(m, t)))

        handles.append(mod.register_forward_pre_hook(pre))
        handles.append(mod.register_forward_hook(post))
    try:
        with torch.no_grad(), _functional_taps(record_functional, depth):
            model(*args, **kwargs)
    finally:
        for h in handles:
            h.remove()
    return tuple(infos), tuple(signals)
