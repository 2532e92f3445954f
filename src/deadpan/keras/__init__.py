"""Keras 3 support: the callback, ``deadpan run`` capture of ``Model.fit`` and ``diagnose`` for Keras models.

Works on every Keras 3 backend deadpan is tested on (TensorFlow and torch). Everything that reads a backend
tensor or variable goes through :mod:`deadpan.keras.backend`; checks never see a Keras object, only the
framework-neutral :class:`~deadpan.evidence.Evidence` that :mod:`deadpan.keras.build` assembles.

Importing this package does not import Keras; :class:`DeadpanCallback` does, on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deadpan.keras.callback import DeadpanCallback

__all__ = ["DeadpanCallback"]


def __getattr__(name: str) -> Any:
    if name == "DeadpanCallback":
        from deadpan.keras.callback import DeadpanCallback

        return DeadpanCallback
    raise AttributeError(f"module 'deadpan.keras' has no attribute {name!r}")
