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
from types import ModuleType
from typing import Any

from deadpan.capture.live import StopOn
from deadpan.capture.session import CallbackSession

#: Module that defines a trainer -> the function that wraps its ``Trainer.__init__``.
TRAINER_MODULES = (
    "lightning.pytorch.trainer.trainer",
    "pytorch_lightning.trainer.trainer",
    "transformers.trainer",
)


class FrameworkRun:
    """The callback sessions a ``deadpan run`` added to the script's trainers."""

    def __init__(self, stop_on: StopOn, max_steps: int | None, on_begin: Callable[[], None]) -> None:
        self.stop_on = stop_on
        self.max_steps = max_steps
        self.on_begin = on_begin
        self.sessions: list[CallbackSession] = []
        self._undo: list[Callable[[], None]] = []
        self._finder: _TrainerImportHook | None = None

    # --- life cycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        for name in TRAINER_MODULES:
            if name in sys.modules:
                self.patch(name, sys.modules[name])
        self._finder = _TrainerImportHook(self)
        sys.meta_path.insert(0, self._finder)

    def stop(self) -> None:
        if self._finder is not None and self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        self._finder = None
        while self._undo:
            self._undo.pop()()

    def main_session(self) -> CallbackSession | None:
        """The session that recorded the most steps (the trainer the script trained most with)."""
        done = [s for s in self.sessions if s.recorder is not None and s.recorder.step > 0]
        return max(done, key=lambda s: s.recorder.step if s.recorder is not None else 0, default=None)

    # --- patching -------------------------------------------------------------------------------------------
    def patch(self, name: str, module: ModuleType) -> None:
        trainer = getattr(module, "Trainer", None)
        if trainer is None or getattr(trainer.__init__, "_deadpan", False):
            return
        original = trainer.__init__
        add = self._lightning_callback if name.endswith("trainer.trainer") else self._hf_callback
        flavour = name.split(".")[0]

        def __init__(this: Any, *args: Any, **kwargs: Any) -> None:
            original(this, *args, **kwargs)
            try:
                add(this, flavour)
            except Exception as exc:  # deadpan must never break the user's training
                sys.stderr.write(f"deadpan: could not attach to the {flavour} trainer ({exc}).\n")

        __init__._deadpan = True  # type: ignore[attr-defined]
        trainer.__init__ = __init__
        self._undo.append(lambda: setattr(trainer, "__init__", original))

    def _has_ours(self, callbacks: Sequence[Any]) -> bool:
        return any(isinstance(getattr(c, "session", None), CallbackSession) for c in callbacks)

    def _lightning_callback(self, trainer: Any, flavour: str) -> None:
        if self._has_ours(trainer.callbacks):
            return
        from deadpan.lightning import DeadpanCallback, pytorch_lightning_callback

        kind: Any = DeadpanCallback if flavour == "lightning" else pytorch_lightning_callback()
        cb = kind(self.stop_on, print_report=False, _max_steps=self.max_steps, _on_begin=self.on_begin)
        trainer.callbacks.append(cb)
        self.sessions.append(cb.session)

    def _hf_callback(self, trainer: Any, flavour: str) -> None:
        if self._has_ours(trainer.callback_handler.callbacks):
            return
        from deadpan.hf import DeadpanCallback

        cb = DeadpanCallback(
            self.stop_on, print_report=False, _max_steps=self.max_steps, _on_begin=self.on_begin
        )
        trainer.add_callback(cb)
        self.sessions.append(cb.session)


class _TrainerImportHook(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when a trainer module is about to load, it lets the other finders find it and
    wraps the loader so that the trainer is patched as soon as the module has run."""

    def __init__(self, run: FrameworkRun) -> None:
        self.run = run

    def find_spec(
        self, fullname: str, path: Any, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in TRAINER_MODULES:
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
