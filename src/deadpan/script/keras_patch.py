"""``deadpan run`` for Keras scripts: ``Model.fit`` and ``Model.train_on_batch`` observed with no change to
the user's script.

Keras is patched when the script imports it (an import hook,
:class:`~deadpan.script.import_hook.AfterImport`, so a PyTorch script never pays for importing Keras), and
restored when the run ends. ``fit`` gets one extra :class:`DeadpanCallback` appended to the
user's own callbacks; a generator passed as ``x`` is wrapped in a pass-through :class:`~deadpan.keras.data.
Tap`. Each model trained gets its own :class:`KerasRun`, so several ``fit`` calls on several models stay
apart. The PyTorch instrumentation is suspended inside ``fit`` (Keras on the torch backend calls
``backward`` itself, which is Keras' loop, not the user's).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from types import ModuleType
from typing import Any

from deadpan.capture import instrument
from deadpan.capture.live import StopOn
from deadpan.capture.samples import sampled
from deadpan.keras import backend
from deadpan.keras import data as kdata
from deadpan.keras.describe import judged_output
from deadpan.keras.loop import LoopWatch
from deadpan.keras.run import CheckpointLoads, KerasRun
from deadpan.script import keras_loads
from deadpan.script.import_hook import AfterImport


class KerasRuns:
    """Every Keras model trained while ``deadpan run`` is active, in the order they first trained."""

    def __init__(self, max_steps: int | None = None, stop_on: StopOn = None) -> None:
        self.runs: list[KerasRun] = []
        self.max_steps = max_steps
        self.stop_on = stop_on
        self.loop = LoopWatch()
        self.loads = CheckpointLoads()

    def run_for(self, model: Any) -> KerasRun:
        for run in self.runs:
            if run.model is model:
                return run
        run = KerasRun(model, loads=self.loads)
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
                    run.offer_train(kdata.from_arrays(x, y, head=judged_output(self)))
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


def _watching() -> KerasRuns | None:
    """The session, when a custom loop's calls are to be watched (not inside fit or deadpan's own probes)."""
    session = _session
    if session is None or getattr(instrument._local, "busy", False):
        return None
    return session


def _model_call_wrapper(original: Any) -> Any:
    @functools.wraps(original)
    def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = original(self, *args, **kwargs)
        session = _watching()
        if session is not None:
            with contextlib.suppress(Exception):
                session.loop.saw_call(self, args[0] if args else kwargs.get("inputs"), out)
        return out

    return __call__


def _loss_call_wrapper(original: Any) -> Any:
    @functools.wraps(original)
    def __call__(self: Any, y_true: Any, y_pred: Any, *args: Any, **kwargs: Any) -> Any:
        value = original(self, y_true, y_pred, *args, **kwargs)
        session = _watching()
        if session is not None:
            with contextlib.suppress(Exception):
                session.loop.saw_loss(self, y_true, y_pred, value)
        return value

    return __call__


def _apply_wrapper(original: Any) -> Any:
    """``optimizer.apply`` called by a custom loop (``fit`` calls it too, but inside the suspended block)."""

    @functools.wraps(original)
    def apply(self: Any, grads: Any, trainable_variables: Any = None, *args: Any, **kwargs: Any) -> Any:
        session = _watching()
        run = None
        if session is not None and backend.tracing():
            _loop_traced(session, self, trainable_variables)
            session = None
        if session is not None:
            run = _loop_step_begins(session, self, trainable_variables)
        with instrument.suspended():
            result = original(self, grads, trainable_variables, *args, **kwargs)
        if session is not None and run is not None:
            _loop_step_ends(session, run)
        return result

    return apply


def _loop_traced(session: KerasRuns, optimizer: Any, variables: Any) -> None:
    """``apply`` inside the trace of a ``tf.function``: that function is the loop's training step (each
    later call one step, see :func:`_tf_function_wrapper`); the initial weights are read now."""
    loop = session.loop
    try:
        variables = list(variables if variables is not None else optimizer._trainable_variables)
        model = loop.model_of(variables)
        if model is None or loop.function is None:
            return
        loop.traced_step(loop.function, model)
        run = session.run_for(model)
        loss = loop.last_loss
        run.compile_optimizer = optimizer
        run.compile_loss = loss.fn if loss is not None else run.compile_loss
        run.data_kind = run.data_kind or "custom loop (tf.function)"
        with backend.eager():
            run.begin_training()
    except Exception:
        pass


def _tf_function_wrapper(original: Any) -> Any:
    """``tf.function`` calls: a function whose trace applied an optimizer is a custom loop's step."""

    @functools.wraps(original)
    def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:
        session = _watching()
        if session is None:
            return original(self, *args, **kwargs)
        loop = session.loop
        outer, loop.function = loop.function, self
        try:
            result = original(self, *args, **kwargs)
        finally:
            loop.function = outer
        _traced_step_ended(session, self, args, kwargs, result)
        return result

    return __call__


def _traced_step_ended(session: KerasRuns, function: Any, args: Any, kwargs: Any, result: Any) -> None:
    """One call of a traced training step: a step, its loss the scalar the function returned (if it did)."""
    step = session.loop.traced.get(function)
    if step is None:
        return
    run = session.run_for(step.model)
    try:
        n = run.steps
        value = result if backend.is_scalar(result) else None
        run.end_step(None, value, running_mean=False)
        if sampled(n):
            run.offer_train(session.loop.traced_sample(step, args, kwargs, judged_output(run.model)))
    except kdata.Unsupported as exc:
        if f"not supported yet: {exc}" not in run.notes:
            run.notes.append(f"not supported yet: {exc}")
    except Exception as exc:
        run.error("tf.function step", exc)
    if session.max_steps is not None and session.total_steps() >= session.max_steps:
        raise instrument.StopTraining(f"--max-steps {session.max_steps} reached")


def _loop_step_begins(session: KerasRuns, optimizer: Any, variables: Any) -> KerasRun | None:
    """The run of the model a custom loop's ``apply`` updates, its step begun (weights read when sampled);
    None when no model called in this run holds the variables."""
    run = None
    try:
        variables = list(variables if variables is not None else optimizer._trainable_variables)
        model = session.loop.model_of(variables)
        if model is None:
            return None
        run = session.run_for(model)
        loss = session.loop.last_loss
        run.compile_optimizer = optimizer
        run.compile_loss = loss.fn if loss is not None else run.compile_loss
        run.data_kind = run.data_kind or "custom loop"
        run.begin_training()
        run.begin_step()
    except Exception as exc:
        if run is not None:
            run.error("optimizer.apply", exc)
        return None
    return run


def _loop_step_ends(session: KerasRuns, run: KerasRun) -> None:
    """A custom loop's step ended: its loss recorded, its batch sampled (on the sampled steps)."""
    loop = session.loop
    try:
        step = run.steps
        loss = loop.last_loss
        run.end_step(None, loss.value if loss is not None else None, running_mean=False)
        if sampled(step):
            run.offer_train(loop.sample(judged_output(run.model)))
    except kdata.Unsupported as exc:
        if f"not supported yet: {exc}" not in run.notes:
            run.notes.append(f"not supported yet: {exc}")
    except Exception as exc:
        run.error("optimizer.apply", exc)
    finally:
        loop.last_call = loop.last_loss = None  # no batch (nor its autograd graph) kept past its step
    if session.max_steps is not None and session.total_steps() >= session.max_steps:
        raise instrument.StopTraining(f"--max-steps {session.max_steps} reached")


def _patch(keras: ModuleType) -> None:
    if _undo:
        return
    for cls, attr, make in (
        (keras.Model, "fit", _fit_wrapper),
        (keras.Model, "train_on_batch", _train_on_batch_wrapper),
        (keras.Model, "__call__", _model_call_wrapper),
        (keras.losses.Loss, "__call__", _loss_call_wrapper),
        (keras.optimizers.Optimizer, "apply", _apply_wrapper),
        *((cls, "__call__", _tf_function_wrapper) for cls in backend.tf_function_classes(keras)),
        *keras_loads.patches(keras, lambda model: _session.loads.record(model) if _session else None),
    ):
        had = attr in cls.__dict__
        original = getattr(cls, attr)
        setattr(cls, attr, make(original))
        _undo.append((cls, attr, original if had else None))


def _unpatch() -> None:
    while _undo:
        cls, attr, original = _undo.pop()
        if original is None:
            delattr(cls, attr)
        else:
            setattr(cls, attr, original)


def _keras_loaded(name: str, module: ModuleType) -> None:
    if _session is not None:
        _patch(module)


#: Patches Keras right after the script's first ``import keras`` (or ``from tensorflow import keras``).
_hook = AfterImport(("keras",), _keras_loaded)


def start(max_steps: int | None = None, stop_on: StopOn = None) -> KerasRuns:
    """Begin observing Keras training for ``deadpan run``; patches now if Keras is already imported."""
    global _session
    _session = KerasRuns(max_steps, stop_on)
    if "keras" in sys.modules:
        _patch(sys.modules["keras"])
    else:
        _hook.install()
    return _session


def stop() -> None:
    global _session
    _session = None
    _hook.remove()
    _unpatch()
