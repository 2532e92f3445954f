"""Built-in broken (and healthy) trainings: the demo, the tests and the benchmarks run these.

Each scenario is an ordinary, unmodified PyTorch training function, written the way users write them; it
is run through the same capture path as ``deadpan run`` (:func:`deadpan.script.autolog.run_callable`).
"""

from __future__ import annotations

from deadpan.scenarios.registry import SCENARIOS, Scenario, get, run

__all__ = ["SCENARIOS", "Scenario", "get", "run"]
