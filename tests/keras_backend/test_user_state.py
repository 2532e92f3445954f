"""After ``deadpan.diagnose`` or a ``fit`` with :class:`DeadpanCallback` the user's Keras things are exactly
as before: weights, optimizer variables and iterations, the compiled loss and optimizer, ``stop_training``,
and the global RNG states (Python, NumPy, torch, Keras' global seed generator); and training that goes on
afterwards ends bitwise where it would have ended without deadpan.

Mirrors tests/test_user_state.py for Keras; runs once per backend (``KERAS_BACKEND``).
"""

from __future__ import annotations

import random
from typing import Any

import keras
import numpy as np
import pytest
import torch

import deadpan
from deadpan.keras import DeadpanCallback


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64")


def _model() -> Any:
    """A seeded model with dropout and batch normalization (mode-dependent layers) and a frozen layer."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(8, activation="relu", trainable=False),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _fit(model: Any, x: np.ndarray, y: np.ndarray, callbacks: list[Any] | None = None) -> Any:
    return model.fit(x, y, batch_size=32, epochs=2, shuffle=True, verbose=0, callbacks=callbacks or [])


def _numpy(variables: Any) -> list[np.ndarray]:
    return [np.array(keras.ops.convert_to_numpy(v)) for v in variables]


def _keras_global_seed() -> np.ndarray | None:
    """The state of Keras' global seed generator (used by unseeded ``keras.random`` calls), when it exists.
    Read without creating it: creating it draws from Python's ``random``."""
    from keras.src.backend.common import global_state

    gen = global_state.get_global_attribute("global_seed_generator")
    return None if gen is None else np.array(keras.ops.convert_to_numpy(gen.state))


def _snapshot(model: Any) -> dict[str, Any]:
    opt = getattr(model, "optimizer", None)  # an uncompiled model on the torch backend has none
    return {
        "weights": _numpy(model.weights),
        "weight_names": [v.path for v in model.weights],
        "trainable": [layer.trainable for layer in model.layers],
        "n_trainable": len(model.trainable_weights),
        "opt_variables": _numpy(opt.variables) if opt is not None else None,
        "opt_names": [v.path for v in opt.variables] if opt is not None else None,
        "iterations": int(keras.ops.convert_to_numpy(opt.iterations)) if opt is not None else None,
        "lr": float(keras.ops.convert_to_numpy(opt.learning_rate)) if opt is not None else None,
        "optimizer": opt,
        "loss": getattr(model, "loss", None),
        "compiled": getattr(model, "compiled", None),
        "stop_training": getattr(model, "stop_training", None),
        "built": model.built,
        "py_rng": random.getstate(),
        "np_rng": np.random.get_state()[1].copy(),
        "torch_rng": torch.get_rng_state().clone(),
        "keras_seed": _keras_global_seed(),
    }


#: What identifies one model object, not its state: compared only when both snapshots are of the same model.
IDENTITY = ("optimizer", "loss", "weight_names", "opt_names")


def _assert_same(a: dict[str, Any], b: dict[str, Any], same_model: bool = True) -> None:
    """Bitwise equal state; with ``same_model`` also the very same optimizer and loss objects."""
    assert a.keys() == b.keys()
    for key in ("weights", "opt_variables"):
        if a[key] is None:
            assert b[key] is None, key
            continue
        assert len(a[key]) == len(b[key]), key
        for i, (u, v) in enumerate(zip(a[key], b[key], strict=True)):
            assert u.dtype == v.dtype and np.array_equal(u, v), (key, i)
    assert torch.equal(a["torch_rng"], b["torch_rng"])
    for key in ("np_rng", "keras_seed"):
        assert (a[key] is None and b[key] is None) or np.array_equal(a[key], b[key]), key
    if same_model:
        assert a["optimizer"] is b["optimizer"] and a["loss"] is b["loss"]
        assert a["weight_names"] == b["weight_names"] and a["opt_names"] == b["opt_names"]
    done = ("weights", "opt_variables", "torch_rng", "np_rng", "keras_seed", *IDENTITY)
    for key in a.keys() - set(done):
        assert a[key] == b[key], key


Trained = tuple[dict[str, Any], dict[str, list[float]], dict[str, list[float]]]


def _two_fits(between: Any = None, callbacks: list[Any] | None = None) -> Trained:
    """A fresh seeded model fitted twice; ``between(model)`` runs between the fits, ``callbacks`` go to the
    first. Anything deadpan drew from a shared RNG, or changed in the model, would show after the second."""
    x, y = _data()
    model = _model()
    first = _fit(model, x, y, callbacks)
    if between is not None:
        between(model)
    second = _fit(model, x, y)
    return _snapshot(model), first.history, second.history


@pytest.fixture(scope="module")
def plain() -> Trained:
    """The reference: the same two fits with no deadpan at all."""
    return _two_fits()


def test_diagnose_leaves_the_model_and_the_rng_as_they_were(plain: Trained) -> None:
    x, y = _data()
    seen: dict[str, Any] = {}

    def diagnose(model: Any) -> None:
        before = _snapshot(model)
        assert before["iterations"] == 16  # trained: the optimizer has state to keep
        report = deadpan.diagnose(model, x, y)
        assert report.verdict in ("healthy", "degraded", "collapsed"), str(report)
        assert report.internal_errors == (), report.internal_errors
        assert "overfit_one_batch" in report.metrics["probes"]  # the training probes ran (on copies)
        _assert_same(before, _snapshot(model))
        seen["report"] = report

    diagnosed = _two_fits(between=diagnose)
    assert "report" in seen
    # Training that goes on after the diagnosis ends exactly where it ends without one.
    _assert_same(plain[0], diagnosed[0], same_model=False)
    assert plain[1:] == diagnosed[1:]


def test_callback_does_not_change_the_training(plain: Trained) -> None:
    """The same seeded fits with and without the callback (which checks for a collapse every few steps
    and diagnoses, probes included, when the first fit ends) end identical."""
    cb = DeadpanCallback(stop_on="collapsed", print_report=False)
    watched = _two_fits(callbacks=[cb])
    assert cb.report is not None and cb.report.verdict != "inconclusive", str(cb.report)
    assert cb.report.internal_errors == (), cb.report.internal_errors
    assert "overfit_one_batch" in cb.report.metrics["probes"]
    assert cb.stopped_at is None  # a healthy training is not stopped
    _assert_same(plain[0], watched[0], same_model=False)
    assert plain[1:] == watched[1:]  # the same losses, epoch by epoch
    assert watched[0]["stop_training"] is False


def test_diagnose_leaves_an_uncompiled_model_uncompiled() -> None:
    x, y = _data()
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    user_optimizer = keras.optimizers.SGD(learning_rate=0.1)
    before = _snapshot(model)
    report = deadpan.diagnose(
        model, x, y, loss_fn=keras.losses.SparseCategoricalCrossentropy(), optimizer=user_optimizer
    )
    assert report.verdict != "inconclusive", str(report)
    assert report.internal_errors == (), report.internal_errors
    assert "lr_range" in report.metrics["probes"]  # probed with the loss and optimizer passed in
    _assert_same(before, _snapshot(model))
    assert getattr(model, "optimizer", None) is None and not getattr(model, "compiled", False)
    # The optimizer lent its class and settings only: it was never built or stepped.
    assert not user_optimizer.built
    assert int(keras.ops.convert_to_numpy(user_optimizer.iterations)) == 0
