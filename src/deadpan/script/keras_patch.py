"""``deadpan run`` for Keras scripts: ``Model.fit`` and ``Model.train_on_batch`` observed with no change to
the user's script.

Keras is patched when the script imports it (an import hook, so a PyTorch script never pays for importing
Keras), and restored when the run ends. ``fit`` gets one extra :class:`DeadpanCallback` appended to the
user's own callbacks; a generator passed as ``x`` is wrapped in a pass-through :class:`~deadpan.keras.data.
Tap`. Each model trained gets its own :class:`KerasRun`, so several ``fit`` calls on several models stay
apart. The PyTorch instrumentation is suspended inside ``fit`` (Keras on the torch backend calls
``backward`` itself, which is Keras' loop, not the user's).
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from deadpan.capture import instrument
from deadpan.capture.live import StopOn
from deadpan.capture.samples import sampled
from deadpan.keras import data as kdata
from deadpan.keras.run import KerasRun


class KerasRuns:
    """Every Keras model trained while ``deadpan run`` is active, in the order they first trained."""

    def __init__(self, max_steps: int | None = None, stop_on: StopOn = None) -> None:
        self.runs: list[KerasRun] = []
        self.max_steps = max_steps
        self.stop_on = stop_on

    def run_for(self, model: Any) -> KerasRun:
        for run in self.runs:
            if run.model is model:
                return run
        run = KerasRun(model)
        self.runs.append(run)
        return run

    def total_steps(self) -> int:
        return sum(r.steps for r in self.runs)

    def main_run(self) -> KerasRun | None:
        """The model that trained most (the first of equals): the one the report covers."""
        best: KerasRun | None = None
        for run in self.runs:
            if best is None or run.steps > best.steps:
                best = run
        return best

    def others(self) -> list[KerasRun]:
        main = self.main_run()
        return [r for r in self.runs if r is not main]


_session: KerasRuns | None = None
_undo: list[Any] = []


def _fit_wrapper(original: Any) -> Any:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        session = _session
        if session is None or getattr(instrument._local, "busy", False):
            return original(self, *args, **kwargs)
        try:
            from deadpan.keras.callback import DeadpanCallback

            bound = signature.bind(self, *args, **kwargs)
            arguments = dict(bound.arguments)
            arguments.pop("self", None)
            extra = arguments.pop("kwargs", {})
            x = arguments.get("x")
            tap = None
            if x is not None and kdata.is_generator(x):
                tap = kdata.Tap(x)
                arguments["x"] = tap.generator()
            callbacks = list(arguments.get("callbacks") or [])
            run = session.run_for(self)
            callbacks.append(
                DeadpanCallback(session.stop_on, _run=run, _max_steps=_remaining(session, run), _tap=tap)
            )
            arguments["callbacks"] = callbacks
            arguments.update(extra)
        except Exception:  # deadpan must never break the user's fit
            return original(self, *args, **kwargs)
        with instrument.suspended():
            return original(self, **arguments)

    return fit


def _remaining(session: KerasRuns, run: KerasRun) -> int | None:
    """The step count at which ``--max-steps`` stops this run (counted over all models)."""
    if session.max_steps is None:
        return None
    return run.steps + max(0, session.max_steps - session.total_steps())


def _train_on_batch_wrapper(original: Any) -> Any:
    @functools.wraps(original)
    def train_on_batch(self: Any, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        session = _session
        if session is None or getattr(instrument._local, "busy", False):
            return original(self, x, y, *args, **kwargs)
        run = None
        try:
            run = session.run_for(self)
            run.train_on_batch_calls += 1
            run.begin_training()
            run.begin_step()
        except Exception as exc:
            if run is not None:
                run.error("train_on_batch", exc)
        with instrument.suspended():
            result = original(self, x, y, *args, **kwargs)
        if run is not None:
            try:
                if run.initial_values is None:  # the model was built by this first call
                    run.begin_training()
                value = result[0] if isinstance(result, list | tuple) else result
                if isinstance(value, dict):
                    value = value.get("loss")
                step = run.steps
                run.end_step(None, value, running_mean=False)
                if sampled(step):
                    run.offer_train(kdata.from_arrays(x, y))
                if session.max_steps is not None and session.total_steps() >= session.max_steps:
                    raise instrument.StopTraining(f"--max-steps {session.max_steps} reached")
            except instrument.StopTraining:
                raise
            except kdata.Unsupported as exc:
                if f"not supported yet: {exc}" not in run.notes:
                    run.notes.append(f"not supported yet: {exc}")
            except Exception as exc:
                run.error("train_on_batch", exc)
        return result

    return train_on_batch


def _patch(keras: ModuleType) -> None:
    if _undo:
        return
    model_cls = keras.Model
    for attr, make in (("fit", _fit_wrapper), ("train_on_batch", _train_on_batch_wrapper)):
        had = attr in model_cls.__dict__
        original = getattr(model_cls, attr)
        setattr(model_cls, attr, make(original))
        _undo.append((model_cls, attr, original if had else None))


def _unpatch() -> None:
    while _undo:
        cls, attr, original = _undo.pop()
        if original is None:
            delattr(cls, attr)
        else:
            setattr(cls, attr, original)


class _ImportHook(importlib.abc.MetaPathFinder):
    """Patches Keras right after the script's first ``import keras`` (or ``from tensorflow import keras``)."""

    def __init__(self) -> None:
        self._busy = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "keras" or self._busy:
            return None
        self._busy = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original(module)
            try:
                if _session is not None:
                    _patch(module)
            except Exception:
                pass

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


_hook = _ImportHook()


def start(max_steps: int | None = None, stop_on: StopOn = None) -> KerasRuns:
    """Begin observing Keras training for ``deadpan run``; patches now if Keras is already imported."""
    global _session
    _session = KerasRuns(max_steps, stop_on)
    if "keras" in sys.modules:
        _patch(sys.modules["keras"])
    elif _hook not in sys.meta_path:
        sys.meta_path.insert(0, _hook)
    return _session


def stop() -> None:
    global _session
    _session = None
    if _hook in sys.meta_path:
        sys.meta_path.remove(_hook)
    _unpatch()
