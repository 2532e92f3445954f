"""Running probes one by one, for either framework's evidence builder: each one timed, and a failing one
costing only its own part of the evidence."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any


def _note(errors: list[str], where: str, exc: BaseException) -> None:
    """Record a probe's failure in ``errors``: where it failed and the exception's last line."""
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    errors.append(f"probe {where}: {last}")


class ProbeTimer:
    """Runs probes one by one: each one's time goes to ``timings``, its failure to ``errors`` (it then gives
    None), so that one failing probe costs only its own part of the evidence."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        self.timings: dict[str, float] = {}

    def __call__(self, name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        try:
            return fn()
        except Exception as exc:
            _note(self.errors, name, exc)
            return None
        finally:
            self.timings[name] = time.perf_counter() - t0
