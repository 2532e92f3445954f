"""Fix trials for Keras models: the control rebuilt from a :class:`~deadpan.keras.run.KerasRun`, and the
short training both it and each fixed copy run.

A Keras trial is built from the model's config (``Sequential`` and functional models; a subclassed model has
no config to rebuild), loaded with the weights deadpan read when training started, compiled with the user's
loss and a fresh optimizer of the user's class and settings, and trained with ``train_on_batch`` on the
captured rows for the same budget as a PyTorch trial. Fixes edit a copy of the config, the arrays, the loss
or the optimizer settings; the user's model is only read. Every random initialiser in the rebuilt config gets
an explicit seed, so rebuilding draws nothing from Keras' global generator.

Keras trials run in this process: a worker process would import Keras and its backend again for every trial,
which costs more than the trials themselves at this budget.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deadpan.evidence import Evidence, Task
from deadpan.findings import Finding
from deadpan.fixes.base import NotApplicable
from deadpan.fixes.control import DEFAULT_LR, HELDOUT_SHARE, budget
from deadpan.fixes.trial import REPORT_EVERY, TrialMetrics, TrialTimeout, measured
from deadpan.probes.rng import preserved_rng

#: Model classes whose config Keras can rebuild.
REBUILDABLE = ("Sequential", "Functional")
#: Held-out rows a trial is judged on (one evaluation batch).
HELDOUT_ROWS = 1024


@dataclass(frozen=True)
class KerasTrialSetup:
    """One short Keras training: the control or a fixed copy of it."""

    #: The model's class name ("Sequential" or "Functional") and config; fixes edit a deep copy.
    kind: str
    config: dict[str, Any]
    #: Values to load after building (the weights when training started); None: the config's initialisers.
    weights: list[np.ndarray] | None
    x: np.ndarray
    y: np.ndarray
    x_heldout: np.ndarray
    y_heldout: np.ndarray
    loss: Any
    #: The user's optimizer class and config (None: SGD with momentum), with the learning rate apart.
    optimizer_cls: Any
    optimizer_config: dict[str, Any]
    lr: float
    steps: int
    batch_size: int
    task: Task
    class_weight: dict[Any, float] | None = None
    seed: int = 0
    origin: str = "the model's weights when training started"
    data: str = "the captured rows"
    changes: tuple[str, ...] = field(default=())

    def but(self, change: str, **kw: Any) -> KerasTrialSetup:
        """A copy with the fields in ``kw`` replaced and ``change`` noted."""
        return dataclasses.replace(self, changes=(*self.changes, change), **kw)

    def config_copy(self) -> dict[str, Any]:
        return copy.deepcopy(self.config)


def layer_configs(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The layer entries (``{"class_name": ..., "config": {...}}``) of a Sequential or functional config, in
    order, the input layer left out."""
    return [entry for entry in config.get("layers", []) if entry.get("class_name") != "InputLayer"]


def weight_layers(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The layer configs with a kernel (Dense, Conv, ...), in order."""
    return [e["config"] for e in layer_configs(config) if "kernel_initializer" in e.get("config", {})]


def _seeded(obj: Any, seed: Iterator[int]) -> None:
    """Give every random initialiser in a config an explicit seed (in place)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key.endswith("_initializer") and isinstance(value, dict):
                inner = value.get("config")
                if isinstance(inner, dict) and "seed" in inner and inner["seed"] is None:
                    inner["seed"] = next(seed)
            _seeded(value, seed)
    elif isinstance(obj, list):
        for value in obj:
            _seeded(value, seed)


def build(setup: KerasTrialSetup) -> Any:
    """A new model from the setup's config, its random initialisers seeded, loaded with its weights."""
    import itertools

    import keras

    config = setup.config_copy()
    _seeded(config, itertools.count(setup.seed * 1000 + 1))
    cls = keras.Sequential if setup.kind == "Sequential" else keras.Model
    model = cls.from_config(config)
    if setup.weights is not None:
        model.set_weights(setup.weights)
    return model


def _optimizer(setup: KerasTrialSetup) -> Any:
    import keras

    if setup.optimizer_cls is not None:
        try:
            return setup.optimizer_cls.from_config({**setup.optimizer_config, "learning_rate": setup.lr})
        except Exception:
            pass
    return keras.optimizers.SGD(learning_rate=setup.lr, momentum=0.9)


def _loss_of(result: Any) -> float:
    from deadpan.keras.probes import _loss_of as read

    return read(result)


def train_keras_trial(
    setup: KerasTrialSetup,
    time_limit: float | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> TrialMetrics:
    """Train a model built from ``setup`` for ``setup.steps`` steps and measure it on the held-out rows;
    raise :class:`TrialTimeout` past ``time_limit`` seconds."""
    from deadpan.keras import describe, probes
    from deadpan.keras.build import loss_target

    t0 = time.perf_counter()
    with preserved_rng(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build(setup)
        model.compile(optimizer=_optimizer(setup), loss=setup.loss)
        n, size = len(setup.x), max(1, setup.batch_size)
        batches = max(1, math.ceil(n / size))
        diverged, done = False, 0
        for i in range(setup.steps):
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                raise TrialTimeout(f"the trial ran past its {time_limit:g} s limit after {i} steps")
            j = (i % batches) * size
            xb, yb = setup.x[j : j + size], setup.y[j : j + size]
            if not math.isfinite(_loss_of(model.train_on_batch(xb, yb, class_weight=setup.class_weight))):
                diverged = True
                break
            done = i + 1
            if on_step is not None and (done % REPORT_EVERY == 0 or done == setup.steps):
                on_step(done, setup.steps)
        hx, hy = setup.x_heldout[:HELDOUT_ROWS], setup.y_heldout[:HELDOUT_ROWS]
        out = probes.outputs(model, hx)
        finite = bool(np.isfinite(out).all())
        held_loss = _loss_of(model.test_on_batch(hx, hy)) if finite else math.inf
        target = loss_target(describe.read_loss(setup.loss), out, hy)
    out32 = np.nan_to_num(np.asarray(out, dtype=np.float32))
    return measured(
        setup.task, out32, np.asarray(target), held_loss, done, time.perf_counter() - t0, diverged
    )


def keras_control_setup(
    run: Any, ev: Evidence, findings: tuple[Finding, ...], seed: int = 0
) -> KerasTrialSetup:
    """The control trial of a Keras run (a :class:`~deadpan.keras.run.KerasRun`); raise
    :class:`NotApplicable` when it cannot be rebuilt."""
    from deadpan.keras import describe
    from deadpan.keras.build import _model_input

    model = run.model
    kind = type(model).__name__
    if kind not in REBUILDABLE:
        raise NotApplicable(f"a subclassed Keras model ({kind}) has no config deadpan can rebuild it from")
    if run.initial_values is None:
        raise NotApplicable(
            "deadpan holds no copy of the weights from before training (the model is too large)"
        )
    if run.train is None or len(run.train.x) < 2:
        raise NotApplicable("no training rows were captured")
    if run.train.parts is not None:
        raise NotApplicable("not supported yet: fix trials for a Keras model with several inputs")
    if ev.task is None:
        raise NotApplicable("the task (classification or regression) is unknown")
    loss = getattr(model, "loss", None) or run.compile_loss
    if loss is None:
        raise NotApplicable("the model was never compiled with a loss")
    x, y = _model_input(run.train.x), np.asarray(run.train.y)
    if run.heldout is not None and len(run.heldout.x) >= 2:
        hx, hy = _model_input(run.heldout.x), np.asarray(run.heldout.y)
        train_x, train_y = x, y
    else:
        cut = int(len(x) * (1 - HELDOUT_SHARE))
        if cut < 2 or len(x) - cut < 2:
            raise NotApplicable("too few captured rows to hold some out for judging")
        train_x, train_y, hx, hy = x[:cut], y[:cut], x[cut:], y[cut:]
    opt = getattr(model, "optimizer", None) or run.compile_optimizer
    info = describe.optimizer_info(opt)
    opt_cls, opt_config = None, {}
    if opt is not None and not isinstance(opt, str):
        try:
            opt_cls, opt_config = type(opt), dict(opt.get_config())
        except Exception:
            opt_cls, opt_config = None, {}
    return KerasTrialSetup(
        kind=kind,
        config=model.get_config(),
        weights=[np.array(w) for w in run.initial_values],
        x=train_x,
        y=train_y,
        x_heldout=hx,
        y_heldout=hy,
        loss=loss,
        optimizer_cls=opt_cls,
        optimizer_config=opt_config,
        lr=float(info.lr) if info is not None and info.lr else DEFAULT_LR,
        steps=budget(ev),
        batch_size=int(run.batch_size or 32),
        task=ev.task,
        class_weight=run.class_weight,
        seed=seed,
        origin=(
            "the model's weights when training started"
            if run.fit_calls or run.train_on_batch_calls
            else "the model as given to diagnose() (deadpan saw no earlier state)"
        ),
    )


def describe_keras(setup: KerasTrialSetup) -> dict[str, Any]:
    """The control's recipe, for the report."""
    return {
        "starts_from": setup.origin,
        "steps": setup.steps,
        "optimizer": setup.optimizer_cls.__name__ if setup.optimizer_cls is not None else "SGD",
        "lr": setup.lr,
        "data": setup.data,
        "train_rows": len(setup.x),
        "heldout_rows": len(setup.x_heldout),
        "loop_bugs_reproduced": [],
    }


# --- config editing, for the fixes -------------------------------------------------------------------------


def initializer(class_name: str) -> dict[str, Any]:
    """A serialized Keras initialiser (its seed filled in by :func:`build`)."""
    return {
        "module": "keras.initializers",
        "class_name": class_name,
        "config": {"seed": None},
        "registered_name": None,
    }


def activation_of(layer: dict[str, Any]) -> str:
    """A layer config's activation name ("linear" when none)."""
    act = layer.get("activation") or "linear"
    return str(act if isinstance(act, str) else act.get("config", act.get("class_name", "linear")))


def reinitialized(config: dict[str, Any]) -> int:
    """Give every weight layer a standard initialiser (He before a ReLU, Glorot elsewhere, zero biases), in
    place; the number of layers changed."""
    layers = weight_layers(config)
    for layer in layers:
        relu = activation_of(layer) in ("relu", "leaky_relu", "elu", "gelu", "silu")
        layer["kernel_initializer"] = initializer("HeNormal" if relu else "GlorotUniform")
        if "bias_initializer" in layer:
            layer["bias_initializer"] = {
                "module": "keras.initializers",
                "class_name": "Zeros",
                "config": {},
                "registered_name": None,
            }
    return len(layers)


def without_build_configs(config: dict[str, Any]) -> None:
    """Drop the layers' recorded input shapes (in place): after a layer's width changes, the next layer's no
    longer holds, and the model builds again from its input."""
    for entry in config.get("layers", []):
        entry.pop("build_config", None)
