"""The one adapter between a framework's training callbacks and deadpan: :class:`CallbackSession`.

Lightning's, Hugging Face's and Keras' callbacks are thin: each turns its framework's hooks into the calls
below, in this order, and asks its framework to stop when :attr:`~CallbackSession.stop_requested` says so::

    begin(model, optimizers)          training starts (fit, train)
      batch_start()                   a training batch begins
      before_step()                   the gradients are final, the optimizer is about to step
      after_step(loss, rows)          the optimizer stepped (once per step, not per accumulated batch)
      evaluation_start()              the framework evaluates on held-out data
    end(extra)                        training ended: diagnose; ``extra`` metrics go into the report

Two sessions implement it: :class:`deadpan.capture.session.TorchSession` records a torch module
(Lightning, HF Trainer) and :class:`deadpan.keras.session.KerasSession` a Keras model. ``deadpan run`` adds
the callbacks to the script's trainers from one table (:data:`deadpan.script.frameworks.TRAINERS`).

Every call is fail-open: an exception inside deadpan becomes an internal-error note, never an exception in
the user's training (:meth:`~CallbackSession.safely`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from deadpan.capture.live import Alert
    from deadpan.findings import Report


class CallbackSession(Protocol):
    """One training run seen through a framework's callbacks (see the module's docstring for the order)."""

    #: Who records ("lightning", "hf", "callback"): the report's source.
    source: str
    #: The report, once :meth:`end` made it.
    report: Report | None
    #: The live alert, when the output collapsed during training.
    alert: Alert | None
    #: Why the framework is asked to stop its loop, or None: "collapsed" (``stop_on="collapsed"``) or
    #: "max-steps" (``deadpan run --max-steps``).
    stop_requested: str | None

    def safely(self, where: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``; an exception becomes an internal-error note (``where`` says in which hook)."""
        ...

    def begin(self, model: Any, optimizers: tuple[Any, ...] = ()) -> None: ...

    def batch_start(self) -> None: ...

    def before_step(self) -> None: ...

    def after_step(self, loss: Any = None, rows: int | None = None) -> None: ...

    def evaluation_start(self) -> None: ...

    def end(self, extra: dict[str, Any] | None = None) -> Report | None: ...

    def steps(self) -> int:
        """Optimizer steps recorded so far (``deadpan run`` reports on the session that trained most)."""
        ...
