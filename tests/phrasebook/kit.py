"""Real findings for the phrasebook tests: the evidence every check test builds to make its check fire."""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from deadpan.checks import all_checks
from deadpan.checks.base import Check
from deadpan.evidence import Evidence
from deadpan.findings import Finding

CHECK_TESTS = Path(__file__).resolve().parents[1] / "checks"
#: The Keras loss a PyTorch loss function is recorded for (Keras' capture always names the loss).
KERAS_LOSSES = {
    "cross_entropy": "sparse_categorical_crossentropy",
    "cross_entropy_probs": "sparse_categorical_crossentropy",
    "nll_loss": "sparse_categorical_crossentropy",
    "binary_cross_entropy": "binary_crossentropy",
    "binary_cross_entropy_with_logits": "binary_crossentropy",
    "mse_loss": "mean_squared_error",
    "l1_loss": "mean_absolute_error",
    "huber_loss": "huber",
    "smooth_l1_loss": "huber",
}


@dataclass(frozen=True)
class Fired:
    """One check that fired on a check test's evidence, and its finding."""

    check: type[Check]
    ev: Evidence
    finding: Finding


def as_framework(ev: Evidence, framework: str) -> Evidence:
    """The same evidence as one framework's run: ``model.framework`` for Keras, ``source`` for what the
    Lightning and Hugging Face callbacks capture; the loss named as each capture names it (Keras by its
    name in ``compile``, PyTorch by its function only)."""
    model, loss = ev.model, ev.loss
    keras = framework == "keras"
    if model is not None:
        model = replace(model, framework="keras" if keras else "torch")
    if loss is not None and keras and not loss.name:
        loss = replace(loss, name=KERAS_LOSSES.get(loss.function, loss.function))
    elif loss is not None and not keras:
        loss = replace(loss, name="")
    source = framework if framework in ("lightning", "hf") else "test"
    return replace(ev, source=source, model=model, loss=loss)


def _recording(cls: type[Check], found: list[Fired]) -> Callable[[Check, Evidence], Finding | None]:
    original = cls.judge

    def judge(self: Check, ev: Evidence) -> Finding | None:
        finding = original(self, ev)
        if finding is not None:
            found.append(Fired(cls, ev, finding))
        return finding

    return judge


@functools.cache
def fired() -> tuple[Fired, ...]:
    """Every finding the check tests in tests/checks produce (running them), with its evidence."""
    found: list[Fired] = []
    checks = all_checks()
    originals = {cls: cls.judge for cls in checks}
    for cls in checks:
        cls.judge = _recording(cls, found)  # type: ignore[method-assign,assignment]
    try:
        for path in sorted(CHECK_TESTS.glob("test_*.py")):
            module = importlib.import_module(f"checks.{path.stem}")
            for name, test in vars(module).items():
                # Tests that take fixtures or parameters (the registry's) are not check tests.
                if name.startswith("test_") and callable(test) and not inspect.signature(test).parameters:
                    test()
    finally:
        for cls, judge in originals.items():
            cls.judge = judge  # type: ignore[method-assign]
    return tuple(found)
