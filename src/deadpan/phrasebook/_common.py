"""What the phrasebooks share: the phrase types and wording that is the same in every framework."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from deadpan.findings import Change

#: A phrase: a ``str.format`` template over the change's fields and params, or a function of the change.
Phrase: TypeAlias = "str | Callable[[Change], str]"
#: A message fragment: a template over keyword arguments, or a function of them.
Word: TypeAlias = "str | Callable[..., str]"


def fill(phrase: Phrase, change: Change) -> str:
    """The text of one phrase for ``change``."""
    if callable(phrase):
        return phrase(change)
    fields = {"what": change.what, "current": change.current, "proposed": change.proposed}
    return phrase.format(**fields, where=change.where, **change.params)


def word(entry: Word, params: Mapping[str, Any]) -> str:
    """The text of one message fragment for ``params``."""
    if callable(entry):
        return entry(**params)
    return entry.format(**params)


def num(v: float) -> str:
    """A number in three significant digits."""
    return f"{v:.3g}"


def short(v: float) -> str:
    """A round number as written in code: ``1e-4`` for 0.0001, ``1e-2`` for 0.01."""
    mantissa, exponent = f"{v:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def shape(dims: Sequence[int]) -> str:
    return "[" + ", ".join(str(d) for d in dims) + "]"


def lr_value(change: Change) -> str:
    """The proposed learning rate as the fix writes it: two digits, or ``1e-3`` where it is the default."""
    if change.params.get("basis") == "default":
        return "1e-3"
    return f"{change.proposed:.2g}"


def lr_source(change: Change) -> str:
    """Where the proposed learning rate comes from, in words."""
    basis, factor = change.params.get("basis"), change.params.get("factor", 10.0)
    lower = change.action == "lower_learning_rate"
    if basis == "range_test":
        return "the LR range test's steepest descent"
    if basis == "factor":
        return f"{factor:g}x {'lower' if lower else 'higher'}"
    return "a safe default for Adam" if lower else "a usual starting point for Adam"


def weighting(change: Change, what: str, already: str, loss_fix: str, sampler_fix: str) -> str:
    """The class-weighting fix around a framework's weighted loss (``loss_fix``) and sampler advice."""
    mode = change.params["mode"]
    if mode == "separable":
        return (
            f"if nothing else is wrong, weight {what} by inverse class frequency: {loss_fix}; " + sampler_fix
        )
    if mode == "weighted":
        return (
            f"{already} but the model still settles on the dominant class: check that "
            f"the weights are inverse class frequencies, e.g. {loss_fix}, {sampler_fix}"
        )
    return f"weight {what} by inverse class frequency: {loss_fix}; {sampler_fix}"


def target_scaling(head: str) -> str:
    """How to bring regression targets into a bounded head's range instead."""
    if head == "sigmoid":
        return (
            "or scale the targets into [0, 1] (`y = (y - y.min()) / (y.max() - y.min())`, undone at "
            "prediction time)"
        )
    return "or shift the targets to be non-negative if the head must stay"


def names_shown(change: Change) -> str:
    """The parameter names a change lists, in backticks, with how many more there are."""
    names, more = change.params.get("names", []), change.params.get("more", 0)
    return ", ".join(f"`{n}`" for n in names) + (f" and {more} more" if more else "")


def scale_verb(change: Change) -> str:
    """``divide the learning rate by ten`` or ``multiply the learning rate by ten``."""
    return (
        "divide the learning rate by ten"
        if change.params["direction"] == "lower"
        else "multiply the learning rate by ten"
    )
