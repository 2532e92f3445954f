"""``deadpan run`` under Lightning and the Hugging Face Trainer: their callbacks, added without the user.

Importing Lightning or transformers costs seconds, so nothing is imported up front. An import hook waits for
the module that defines the ``Trainer`` (``lightning.pytorch.trainer.trainer``,
``pytorch_lightning.trainer.trainer``, ``transformers.trainer``) and wraps ``Trainer.__init__`` once it has
loaded: every trainer the script builds then carries a ``DeadpanCallback`` (unless it has one already). The
wrap is undone when the run ends.

Under a framework trainer, the framework's hooks know when an optimizer step really happens (Lightning runs
the step's forward and backward inside ``optimizer.step(closure)``), so the run's own recorder stands down
while a callback session records.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from deadpan.capture.live import StopOn
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
        self._finder: _TrainerImportHook | None = None

    # --- life cycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        for kind in TRAINERS:
            if kind.module in sys.modules:
                self.patch(kind.module, sys.modules[kind.module])
        self._finder = _TrainerImportHook(self)
        sys.meta_path.insert(0, self._finder)

    def stop(self) -> None:
        if self._finder is not None and self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        self._finder = None
        while self._undo:
            self._undo.pop()()

    def main_session(self) -> TorchSession | None:
        """The session that recorded the most steps (the trainer the script trained most with)."""
        return max((s for s in self.sessions if s.steps() > 0), key=TorchSession.steps, default=None)

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
        if any(isinstance(getattr(c, "session", None), TorchSession) for c in kind.callbacks(trainer)):
            return
        cb = kind.callback()(
            self.stop_on, print_report=False, _max_steps=self.max_steps, _on_begin=self.on_begin
        )
        kind.add(trainer, cb)
        self.sessions.append(cb.session)


class _TrainerImportHook(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when a trainer module is about to load, it lets the other finders find it and
    wraps the loader so that the trainer is patched as soon as the module has run."""

    def __init__(self, run: FrameworkRun) -> None:
        self.run = run

    def find_spec(
        self, fullname: str, path: Any, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _BY_MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _PatchingLoader(spec.loader, self.run, fullname)
                return spec
        return None


class _PatchingLoader(importlib.abc.Loader):
    """The module's own loader, then the trainer patch."""

    def __init__(self, loader: Any, run: FrameworkRun, name: str) -> None:
        self.loader, self.run, self.name = loader, run, name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        self.run.patch(self.name, module)
