"""``deadpan run`` under Lightning and the Hugging Face Trainer: their callbacks, added without the user.

Importing Lightning or transformers costs seconds, so nothing is imported up front. An import hook
(:class:`~deadpan.script.import_hook.AfterImport`) waits for the module that defines the ``Trainer``
(``lightning.pytorch.trainer.trainer``, ``pytorch_lightning.trainer.trainer``, ``transformers.trainer``) and
wraps ``Trainer.__init__`` once it has loaded: every trainer the script builds then carries a
``DeadpanCallback`` (unless it has one already). The wrap is undone when the run ends.

Under a framework trainer, the framework's hooks know when an optimizer step really happens (Lightning runs
the step's forward and backward inside ``optimizer.step(closure)``), so the run's own recorder stands down
while a callback session records.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from deadpan.capture.live import StopOn
from deadpan.script.import_hook import AfterImport

if TYPE_CHECKING:
    from deadpan.capture.session import TorchSession


def _lightning_callback() -> type:
    from deadpan.lightning import DeadpanCallback

    return DeadpanCallback


def _pytorch_lightning_callback() -> type:
    from deadpan.lightning import pytorch_lightning_callback

    return pytorch_lightning_callback()


def _hf_callback() -> type:
    from deadpan.hf import DeadpanCallback

    return DeadpanCallback


@dataclass(frozen=True)
class TrainerKind:
    """A framework's ``Trainer`` as ``deadpan run`` meets it: where it is defined, how to read and extend
    its callback list, and deadpan's callback for it (imported only when such a trainer is built)."""

    #: The module that defines ``Trainer``.
    module: str
    #: The trainer's callbacks.
    callbacks: Callable[[Any], Sequence[Any]]
    #: Add a callback to a built trainer.
    add: Callable[[Any, Any], None]
    #: deadpan's callback class for this trainer.
    callback: Callable[[], type]

    @property
    def framework(self) -> str:
        return self.module.split(".")[0]


#: Every trainer ``deadpan run`` attaches to; a new framework is a new row, not a new branch.
TRAINERS = (
    TrainerKind(
        "lightning.pytorch.trainer.trainer",
        lambda t: t.callbacks,
        lambda t, cb: t.callbacks.append(cb),
        _lightning_callback,
    ),
    TrainerKind(
        "pytorch_lightning.trainer.trainer",
        lambda t: t.callbacks,
        lambda t, cb: t.callbacks.append(cb),
        _pytorch_lightning_callback,
    ),
    TrainerKind(
        "transformers.trainer",
        lambda t: t.callback_handler.callbacks,
        lambda t, cb: t.add_callback(cb),
        _hf_callback,
    ),
)
_BY_MODULE = {kind.module: kind for kind in TRAINERS}


class FrameworkRun:
    """The callback sessions a ``deadpan run`` added to the script's trainers."""

    def __init__(self, stop_on: StopOn, max_steps: int | None, on_begin: Callable[[], None]) -> None:
        self.stop_on = stop_on
        self.max_steps = max_steps
        self.on_begin = on_begin
        self.sessions: list[TorchSession] = []
        self._undo: list[Callable[[], None]] = []
        self._hook = AfterImport(_BY_MODULE, self.patch)

    # --- life cycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        for kind in TRAINERS:
            if kind.module in sys.modules:
                self.patch(kind.module, sys.modules[kind.module])
        self._hook.install()

    def stop(self) -> None:
        self._hook.remove()
        while self._undo:
            self._undo.pop()()

    def main_session(self) -> TorchSession | None:
        """The session that recorded the most steps (the trainer the script trained most with)."""
        return max((s for s in self.sessions if s.steps() > 0), key=lambda s: s.steps(), default=None)

    # --- patching -------------------------------------------------------------------------------------------
    def patch(self, name: str, module: ModuleType) -> None:
        trainer = getattr(module, "Trainer", None)
        if trainer is None or getattr(trainer.__init__, "_deadpan", False):
            return
        original = trainer.__init__
        kind = _BY_MODULE[name]

        def __init__(this: Any, *args: Any, **kwargs: Any) -> None:
            original(this, *args, **kwargs)
            try:
                self._attach(this, kind)
            except Exception as exc:  # deadpan must never break the user's training
                sys.stderr.write(f"deadpan: could not attach to the {kind.framework} trainer ({exc}).\n")

        __init__._deadpan = True  # type: ignore[attr-defined]
        trainer.__init__ = __init__
        self._undo.append(lambda: setattr(trainer, "__init__", original))

    def _attach(self, trainer: Any, kind: TrainerKind) -> None:
        """Add deadpan's callback to a trainer the script built, unless the script added one itself."""
        from deadpan.capture.session import TorchSession  # a trainer's framework has loaded torch

        if any(isinstance(getattr(c, "session", None), TorchSession) for c in kind.callbacks(trainer)):
            return
        cb = kind.callback()(
            self.stop_on, print_report=False, _max_steps=self.max_steps, _on_begin=self.on_begin
        )
        kind.add(trainer, cb)
        self.sessions.append(cb.session)
