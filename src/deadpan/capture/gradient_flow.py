"""The gradient-flow audit's graph part: where, in a loss's autograd graph, the gradient dies.

Parameters the loss reaches only through an operation whose derivative is zero everywhere (``torch.round``,
``floor``, ``ceil``, ``trunc``, ``sign``) get a gradient of zeros at every step: the forward uses them, the
optimizer holds them, ``backward`` visits them, and still nothing can change them. Neither a ``None``
gradient (the audit's other part, :mod:`deadpan.capture.step_stats`) nor the gradient norms show it as such:
a zero gradient looks like dead units. The graph itself does: walking it from the loss once, the parameters
found only behind such a node are cut off, and the node names the operation.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from deadpan.capture.discovery import GRAPH_NODES

#: Autograd nodes of operations whose derivative is zero wherever it is defined (the name's stem, as
#: ``type(node).__name__`` gives it before the ``Backward<n>`` suffix).
ZERO_DERIVATIVE = frozenset({"Round", "Floor", "Ceil", "Trunc", "Sign", "Sgn"})


def _op(node: object) -> str | None:
    """The operation of a zero-derivative node (``"round"``), None for any other node."""
    stem = type(node).__name__.split("Backward")[0]
    return stem.lower() if stem in ZERO_DERIVATIVE else None


def _walk(starts: Iterable[object], stop_at_cuts: bool) -> tuple[set[int], list[tuple[str, object]]]:
    """The ids of the leaf tensors reached from ``starts``; with ``stop_at_cuts``, the walk does not pass
    zero-derivative nodes, which are returned (operation, node) in the order met."""
    reached: set[int] = set()
    cuts: list[tuple[str, object]] = []
    todo = [n for n in starts if n is not None]
    seen = set(todo)
    while todo and len(seen) < GRAPH_NODES:
        fn = todo.pop()
        op = _op(fn) if stop_at_cuts else None
        if op is not None:
            cuts.append((op, fn))
            continue
        variable = getattr(fn, "variable", None)
        if isinstance(variable, torch.Tensor):
            reached.add(id(variable))
        for nxt, _ in getattr(fn, "next_functions", ()):
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return reached, cuts


def gradient_cuts(loss: torch.Tensor, names: dict[int, str]) -> dict[str, tuple[str, ...]]:
    """The parameters (``names``: id -> name) that ``loss`` reaches only through zero-derivative operations,
    by the operation met first on the way from the loss: ``{"round": ("fc1.weight", "fc1.bias")}``; empty
    when every parameter the loss reaches has a path that carries a gradient."""
    if loss.grad_fn is None:
        return {}
    clean, cuts = _walk([loss.grad_fn], stop_at_cuts=True)
    found: dict[str, tuple[str, ...]] = {}
    taken = set(clean)
    for op, node in cuts:
        behind, _ = _walk([node], stop_at_cuts=False)
        cut = [name for i, name in names.items() if i in behind and i not in taken]
        taken |= behind
        if cut:
            found[op] = (*found.get(op, ()), *cut)
    return found


def model_gradient_cuts(model: nn.Module, loss: torch.Tensor) -> dict[str, tuple[str, ...]]:
    """:func:`gradient_cuts` for the trainable parameters of ``model``."""
    names = {id(p): n for n, p in model.named_parameters() if p.requires_grad}
    return gradient_cuts(loss, names)
