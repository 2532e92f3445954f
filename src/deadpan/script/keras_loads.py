"""The checkpoint loads of a Keras script under ``deadpan run``: ``Model.load_weights`` and
``keras.models.load_model`` / ``keras.saving.load_model``, each recorded after the real call with the
variables it filled, so that frozen layers holding pretrained weights are told from random ones (DP507).
Installed and removed with the rest of the Keras patches (:mod:`deadpan.script.keras_patch`)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any

Record = Callable[[Any], None]
Patch = tuple[Any, str, Callable[[Any], Any]]


def patches(keras: ModuleType, record: Record) -> list[Patch]:
    """(owner, attribute, wrapper maker) for every load function Keras has; ``record(model)`` is called with
    the model whose weights were loaded, and a failure in it never reaches the user's load."""

    def load_weights(original: Any) -> Any:
        @functools.wraps(original)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            with contextlib.suppress(Exception):
                record(self)
            return result

        return wrapper

    def load_model(original: Any) -> Any:
        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            model = original(*args, **kwargs)
            with contextlib.suppress(Exception):
                record(model)
            return model

        return wrapper

    found: list[Patch] = [(keras.Model, "load_weights", load_weights)]
    for module in (getattr(keras, "models", None), getattr(keras, "saving", None)):
        if module is not None and hasattr(module, "load_model"):
            found.append((module, "load_model", load_model))
    return found
