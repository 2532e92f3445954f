"""The scenario registry: name, expected verdict and top cause, and the training function."""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

SCENARIOS: dict[str, Scenario] = {}


@dataclass(frozen=True)
class Scenario:
    name: str
    #: The cause category a correct diagnosis ranks first; None for a healthy scenario.
    expected: str | None
    description: str
    train: Callable[[], object]
    framework: str = "torch"
    #: Shown by ``deadpan demo`` (a representative selection); all run in the tests.
    demo: bool = False

    @property
    def healthy(self) -> bool:
        return self.expected is None

    @property
    def twin(self) -> Callable[[], object] | None:
        """The same training with its one fault removed, when the scenario function takes ``fault``.

        ``deadpan bench verify`` holds a fixed copy against it: a fix restores the model when it reaches the
        score the user's own recipe reaches without the bug."""
        if "fault" not in inspect.signature(self.train).parameters:
            return None
        return functools.partial(self.train, fault=False)  # type: ignore[call-arg]


def scenario(
    name: str, expected: str | None, description: str, demo: bool = False, framework: str = "torch"
) -> Callable[[Callable[[], object]], Callable[[], object]]:
    def add(fn: Callable[[], object]) -> Callable[[], object]:
        if name in SCENARIOS:
            raise ValueError(f"duplicate scenario {name}")
        SCENARIOS[name] = Scenario(name, expected, description, fn, framework=framework, demo=demo)
        return fn

    return add


def keras_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("keras") is not None


def _load(keras: bool = True) -> None:
    """Import the zoos: PyTorch always, Keras when it is installed and ``keras`` is asked for (importing
    Keras fixes its backend and costs seconds, so a PyTorch-only caller leaves it out)."""
    importlib.import_module("deadpan.scenarios.torch_zoo")
    if keras and keras_available():
        importlib.import_module("deadpan.scenarios.keras_zoo")


def get(name: str) -> Scenario:
    _load(keras=name.startswith("keras-"))
    if name not in SCENARIOS:
        raise KeyError(f"no scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")
    return SCENARIOS[name]


def all_scenarios(framework: str | None = None) -> list[Scenario]:
    """Every scenario, or those of one framework ("torch", "keras")."""
    _load(keras=framework in (None, "keras"))
    return [s for s in SCENARIOS.values() if framework is None or s.framework == framework]


def run(name: str) -> object:
    """Run one scenario under deadpan's capture and return the :class:`RunResult`."""
    from deadpan.script.autolog import run_callable

    return run_callable(get(name).train)
