"""Fix text by framework: a phrasebook per framework says a :class:`~deadpan.findings.Change` its way.

Checks and fixes state what to change, as a ``Change``; :func:`render` turns it into the text a user of the
framework acts on, from that framework's book (``torch``, ``keras``, ``lightning``, ``hf``). The Lightning
and Hugging Face books hold only what is said differently there (the trainer's learning rate, clipping,
epochs ...) and fall back on the PyTorch book: their model code is plain PyTorch. Message fragments that
differ by framework (the loss's name, an axis) come from :func:`say`.

This package reads only the evidence and the findings: no framework is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deadpan.evidence import Evidence
from deadpan.findings import Change
from deadpan.phrasebook import hf, keras, lightning, torch
from deadpan.phrasebook._common import Phrase, Word, fill, word

FRAMEWORKS: tuple[str, ...] = ("torch", "keras", "lightning", "hf")

#: Each framework's own phrases, and the book it falls back on for the rest.
_PHRASES: dict[str, Mapping[str, Phrase]] = {
    "torch": torch.PHRASES,
    "keras": keras.PHRASES,
    "lightning": lightning.PHRASES,
    "hf": hf.PHRASES,
}
_WORDS: dict[str, Mapping[str, Word]] = {"torch": torch.WORDS, "keras": keras.WORDS}
_FALLBACK: dict[str, str] = {"lightning": "torch", "hf": "torch"}


def framework_of(ev: Evidence) -> str:
    """The book to write this evidence's fixes from: ``lightning`` or ``hf`` for runs their callbacks
    captured, ``keras`` for a Keras model, else ``torch``."""
    if ev.source in ("lightning", "hf"):
        return ev.source
    if ev.model is not None and ev.model.framework == "keras":
        return "keras"
    return "torch"


def _lookup(tables: Mapping[str, Mapping[str, Any]], key: str, framework: str, kind: str) -> Any:
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; expected one of {FRAMEWORKS}")
    for book in (framework, _FALLBACK.get(framework)):
        if book is not None and key in tables.get(book, {}):
            return tables[book][key]
    raise KeyError(f"the {framework} phrasebook has no {kind} {key!r}")


def render(change: Change, framework: str) -> str:
    """The fix text for ``change`` in ``framework``'s terms."""
    return fill(_lookup(_PHRASES, change.action, framework, "phrase"), change)


def say(key: str, framework: str, **params: Any) -> str:
    """A message fragment that differs by framework (``say("loss", fw, loss_fn=..., loss=...)``)."""
    return word(_lookup(_WORDS, key, framework, "word"), params)


def has_phrase(action: str, framework: str) -> bool:
    """Does ``framework``'s book (or the one it falls back on) say ``action``?"""
    try:
        _lookup(_PHRASES, action, framework, "phrase")
    except KeyError:
        return False
    return True


def has_word(key: str, framework: str) -> bool:
    """Does ``framework``'s book (or the one it falls back on) hold the message fragment ``key``?"""
    try:
        _lookup(_WORDS, key, framework, "word")
    except KeyError:
        return False
    return True


__all__ = ["FRAMEWORKS", "framework_of", "has_phrase", "has_word", "render", "say"]
