"""Process-wide instrumentation of torch: loss functions, backward, optimizers, DataLoader iterators.

Patches are installed when the first recorder activates and removed when the last one leaves, so nothing
stays patched after a ``watch`` block or a ``deadpan run``. Every callback runs inside ``_safely``: an
exception inside deadpan becomes an internal-error note on the recorder, never an exception in the user's
training. The one deliberate exception is :class:`StopTraining`, raised on request (``--max-steps``).

Importing this module does not import torch (:class:`StopTraining` and :func:`suspended` serve the Keras
paths too); installing the patches does.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import torch
    from torch.utils.data import DataLoader

#: The torch.nn.functional losses deadpan records. Loss modules (nn.CrossEntropyLoss, ...) call these, so
#: patching the functions covers both spellings.
LOSS_FUNCTIONS: tuple[str, ...] = (
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "poisson_nll_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "multi_margin_loss",
    "cosine_embedding_loss",
    "triplet_margin_loss",
)


class StopTraining(BaseException):
    """Raised inside the user's step when ``--max-steps`` is reached; a BaseException so that the user's
    ``except Exception`` does not swallow it."""


class Listener(Protocol):
    def on_loss(self, fn: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None: ...
    def on_backward(self, tensor: torch.Tensor) -> None: ...
    def on_step_pre(self, optimizer: torch.optim.Optimizer) -> None: ...
    def on_step_post(self, optimizer: torch.optim.Optimizer) -> None: ...
    def on_zero_grad(self, owner: Any) -> None: ...
    def on_optimizer_created(self, optimizer: torch.optim.Optimizer) -> None: ...
    def on_loader_iter(self, loader: DataLoader[Any]) -> None: ...
    def on_loader_batch(self, batch: Any) -> None: ...
    def on_state_loaded(self, module: torch.nn.Module, keys: list[str]) -> None: ...
    def internal_error(self, where: str, exc: BaseException) -> None: ...


_lock = threading.RLock()
#: Replaced (never mutated) on activate/deactivate, so dispatch iterates it without a copy.
_listeners: tuple[Listener, ...] = ()
#: Listeners asleep (:func:`sleep`): the patches stay installed for them, but they get no events.
_sleeping: tuple[Listener, ...] = ()
_undo: list[Callable[[], None]] = []
_local = threading.local()


def _safely(event: str, *args: Any) -> None:
    """Call ``event`` on every active listener; never let an exception escape, except StopTraining."""
    if not _listeners:  # only sleeping listeners: the patches stay, the events go nowhere
        return
    local = _local
    if getattr(local, "busy", False):  # a listener's own torch calls must not re-enter
        return
    local.busy = True
    try:
        for lst in _listeners:
            try:
                getattr(lst, event)(*args)
            except StopTraining:
                raise
            except Exception as exc:
                try:
                    lst.internal_error(event, exc)
                except Exception:
                    traceback.print_exc()
    finally:
        local.busy = False


def _patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    original = getattr(owner, name)
    setattr(owner, name, make(original))
    _undo.append(lambda: setattr(owner, name, original))


def _loss_wrapper(fn_name: str) -> Callable[[Any], Any]:
    def make(original: Any) -> Any:
        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            _safely("on_loss", fn_name, args, kwargs, result)
            return result

        return wrapper

    return make


def _wrap_backward(original: Any) -> Any:
    """``Tensor.backward``: the event, then the real call (marked, so that the ``torch.autograd.backward``
    it makes is not counted again)."""

    @functools.wraps(original)
    def backward(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        _safely("on_backward", self)
        _local.in_backward = True  # Tensor.backward calls torch.autograd.backward: count once
        try:
            return original(self, *args, **kwargs)
        finally:
            _local.in_backward = False

    return backward


def _wrap_autograd_backward(original: Any) -> Any:
    """``torch.autograd.backward`` called directly: the event on its (first) tensor, then the real call."""
    import torch

    @functools.wraps(original)
    def backward(tensors: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_local, "in_backward", False):
            pass
        elif isinstance(tensors, torch.Tensor):
            _safely("on_backward", tensors)
        elif isinstance(tensors, list | tuple) and tensors and isinstance(tensors[0], torch.Tensor):
            _safely("on_backward", tensors[0])
        return original(tensors, *args, **kwargs)

    return backward


def _wrap_zero_grad(original: Any) -> Any:
    """An optimizer's or a module's ``zero_grad``: the real call, then the event."""

    @functools.wraps(original)
    def zero_grad(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        _safely("on_zero_grad", self)
        return result

    return zero_grad


def _wrap_optimizer_init(original: Any) -> Any:
    """An optimizer's constructor: the real one, then the event (the recorder finds the model from it)."""

    @functools.wraps(original)
    def __init__(self: torch.optim.Optimizer, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _safely("on_optimizer_created", self)

    return __init__


def _wrap_load_state_dict(original: Any) -> Any:
    """A module's ``load_state_dict``: the real call, then the event with the keys it was given (weights
    loaded from a checkpoint, not drawn at random)."""

    @functools.wraps(original)
    def load_state_dict(self: torch.nn.Module, state_dict: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, state_dict, *args, **kwargs)
        _safely("on_state_loaded", self, list(state_dict.keys()) if hasattr(state_dict, "keys") else [])
        return result

    return load_state_dict


def _wrap_loader_iter(original: Any) -> Any:
    """A DataLoader's ``__iter__`` (an epoch begins): the event, then the real call."""

    @functools.wraps(original)
    def __iter__(self: DataLoader[Any]) -> Any:
        _safely("on_loader_iter", self)
        return original(self)

    return __iter__


def _wrap_loader_next(original: Any) -> Any:
    """A DataLoader iterator's ``__next__``: the real call, then the event with the batch it yielded."""

    @functools.wraps(original)
    def __next__(self: Any) -> Any:
        batch = original(self)
        _safely("on_loader_batch", batch)
        return batch

    return __next__


def _hook_optimizer_steps() -> None:
    """torch's global hooks before and after every optimizer step."""
    from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

    def pre(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        _safely("on_step_pre", opt)

    def post(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        _safely("on_step_post", opt)

    h1 = register_optimizer_step_pre_hook(pre)
    h2 = register_optimizer_step_post_hook(post)
    _undo.append(h1.remove)
    _undo.append(h2.remove)


def _install() -> None:
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader

    for name in LOSS_FUNCTIONS:
        if hasattr(F, name):
            _patch(F, name, _loss_wrapper(name))
    _patch(torch.Tensor, "backward", _wrap_backward)
    _patch(torch.autograd, "backward", _wrap_autograd_backward)
    _patch(torch.optim.Optimizer, "zero_grad", _wrap_zero_grad)
    _patch(torch.nn.Module, "zero_grad", _wrap_zero_grad)
    _patch(torch.optim.Optimizer, "__init__", _wrap_optimizer_init)
    _patch(torch.nn.Module, "load_state_dict", _wrap_load_state_dict)
    _patch(DataLoader, "__iter__", _wrap_loader_iter)
    from torch.utils.data.dataloader import _BaseDataLoaderIter

    _patch(_BaseDataLoaderIter, "__next__", _wrap_loader_next)
    _hook_optimizer_steps()


def _uninstall() -> None:
    while _undo:
        _undo.pop()()


def activate(listener: Listener) -> None:
    """Start delivering torch events to ``listener`` (installing the patches if it is the first); wakes a
    sleeping listener."""
    global _listeners, _sleeping
    with _lock:
        if any(lst is listener for lst in _listeners):
            return
        _sleeping = tuple(lst for lst in _sleeping if lst is not listener)
        if not _undo:
            _install()
        _listeners = (*_listeners, listener)


def sleep(listener: Listener) -> None:
    """Stop delivering events to ``listener`` for now, keeping the patches: waking it again (:func:`activate`)
    then costs nothing, where removing and reinstalling the patches costs tens of microseconds."""
    global _listeners, _sleeping
    with _lock:
        if any(lst is listener for lst in _listeners):
            _listeners = tuple(lst for lst in _listeners if lst is not listener)
            _sleeping = (*_sleeping, listener)


def deactivate(listener: Listener) -> None:
    """Stop delivering events to ``listener``; the last one out (awake or asleep) removes every patch."""
    global _listeners, _sleeping
    with _lock:
        _listeners = tuple(lst for lst in _listeners if lst is not listener)
        _sleeping = tuple(lst for lst in _sleeping if lst is not listener)
        if not _listeners and not _sleeping and _undo:
            _uninstall()


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """No events are delivered inside this block (deadpan's own probes run here)."""
    before = getattr(_local, "busy", False)
    _local.busy = True
    try:
        yield
    finally:
        _local.busy = before


def installed() -> bool:
    return bool(_undo)
