"""Keras models trained by a hand-written loop: ``optimizer.apply(grads, vars)`` (or ``apply_gradients``)
called by the user's code, not by ``fit``.

A custom loop has no callback to hook, so ``deadpan run`` watches the three calls every such loop makes:
the model's forward call (its input), the loss call (the targets as the loss sees them, paired with the
input by the identity of the model output the loss was given) and the optimizer's ``apply`` (one training
step, over variables that say which model trained). Eager loops (the torch and JAX backends, TensorFlow
without ``tf.function``) are seen step by step. A ``tf.function`` step runs its Python once, when traced:
the trace says which of the function's arguments are the model's input and the loss' targets, and each later
call of the function is a step whose arguments are read (see :class:`TracedStep`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from deadpan.keras import data as kdata


@dataclass
class LastCall:
    """The latest eager forward call of a model: its input and the output it returned."""

    x: Any
    out: Any


@dataclass
class LastLoss:
    """The latest loss call: the loss object, its targets and predictions, and the value it returned."""

    fn: Any
    y_true: Any
    y_pred: Any
    value: Any


@dataclass
class TracedStep:
    """What the trace of a ``tf.function`` training step showed: the positions, among the function's tensor
    arguments, of the model's input and of the loss' targets (None when either was computed inside)."""

    x_index: int | None = None
    y_index: int | None = None
    model: Any = None


class LoopWatch:
    """The forward, loss and optimizer calls of custom training loops, for one ``deadpan run``."""

    def __init__(self) -> None:
        #: Models called in this run (weakly: deadpan keeps no model alive), oldest first.
        self.models: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
        self.last_call: LastCall | None = None
        self.last_loss: LastLoss | None = None
        #: ``tf.function`` objects whose trace applied an optimizer (a training step), by identity.
        self.traced: weakref.WeakKeyDictionary[Any, TracedStep] = weakref.WeakKeyDictionary()
        #: The ``tf.function`` being called right now (its trace runs the loop's Python), or None.
        self.function: Any = None

    def saw_call(self, model: Any, x: Any, out: Any) -> None:
        self.models.setdefault(id(model), model)
        self.last_call = LastCall(x, out)

    def saw_loss(self, fn: Any, y_true: Any, y_pred: Any, value: Any) -> None:
        self.last_loss = LastLoss(fn, y_true, y_pred, value)

    def model_of(self, variables: list[Any]) -> Any:
        """The model whose trainable weights are the variables being updated (the first model called that
        holds most of them): an outer model, not one of its nested blocks."""
        wanted = {id(v) for v in variables}
        best, overlap = None, 0
        for model in list(self.models.values()):
            try:
                mine = len(wanted & {id(v) for v in model.trainable_weights})
            except Exception:
                continue
            if mine > overlap:
                best, overlap = model, mine
        return best

    def batch(self) -> tuple[Any, Any] | None:
        """This step's (input, targets), when the loss was given the output of the latest model call."""
        call, loss = self.last_call, self.last_loss
        if call is None or loss is None or loss.y_pred is not call.out:
            return None
        return call.x, loss.y_true

    def sample(self, head: str | None) -> kdata.Sample | None:
        found = self.batch()
        return kdata.from_arrays(found[0], found[1], head=head) if found is not None else None

    def traced_step(self, function: Any, model: Any) -> None:
        """The ``tf.function`` being traced applied an optimizer to ``model``: note where its input and
        targets come from among the function's arguments."""
        from deadpan.keras.backend import graph_position

        found = self.batch()
        x_index = graph_position(found[0]) if found is not None else None
        y_index = graph_position(found[1]) if found is not None else None
        self.traced[function] = TracedStep(x_index, y_index, model)

    def traced_sample(
        self, step: TracedStep, args: Any, kwargs: Any, head: str | None
    ) -> kdata.Sample | None:
        """The batch of one call of a traced step, read from its arguments."""
        from deadpan.keras.backend import tensor_arguments

        if step.x_index is None or step.y_index is None:
            return None
        tensors = tensor_arguments(args, kwargs)
        if max(step.x_index, step.y_index) >= len(tensors):
            return None
        return kdata.from_arrays(tensors[step.x_index], tensors[step.y_index], head=head)
