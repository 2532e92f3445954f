"""Fault injection: every place where deadpan's code runs inside (or after) the user's training, and a way to
make it raise, return NaN, or run slowly.

An injection point is a function or method deadpan calls; :func:`injected` replaces it for the length of a
``with`` block and counts the calls. The points are found by introspection, not listed by hand, so a new
torch event, probe or check is covered the day it lands:

- ``event``: every torch event the recorder listens to (the :class:`~deadpan.capture.instrument.Listener`
  protocol), its forward hooks, the live monitor's steps and the framework entry points;
- ``probe``: every function the evidence builder calls on the trained model (``capture/build.py`` imports
  them from ``capture/probes``), and the builder's own helpers;
- ``check``: every registered check's ``judge``;
- ``report``: the writers (JSON, HTML, terminal).
"""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from deadpan.capture import build, instrument
from deadpan.capture.live import LiveMonitor
from deadpan.capture.recorder import Recorder
from deadpan.checks import all_checks
from deadpan.findings import Report
from deadpan.reports import terminal

MODES = ("raise", "nan", "slow")
#: How long a "slow" injection waits before calling the real function.
SLOW_SECONDS = 0.002


class InjectedFault(RuntimeError):
    """What an injection point raises (a plain ``Exception``: deadpan must contain it)."""


@dataclass(frozen=True)
class Point:
    kind: str  # event, probe, check, report
    owner: Any  # the class or module holding the attribute
    name: str

    @property
    def id(self) -> str:
        owner = self.owner.__name__ if hasattr(self.owner, "__name__") else str(self.owner)
        return f"{self.kind}:{owner.rsplit('.', 1)[-1]}.{self.name}"


def _methods(cls: type, names: list[str]) -> list[Point]:
    return [Point("event", cls, n) for n in names if callable(getattr(cls, n, None))]


def event_points() -> list[Point]:
    """Recorder methods torch events and framework hooks reach, and the live monitor's per-step methods."""
    listener = [n for n in vars(instrument.Listener) if n.startswith("on_")]
    hooks = ["_on_forward_pre", "_on_forward", "_live_check", "_live_inference_check"]
    hooks += ["_observe_training_pair", "_before_step", "_after_step", "before_step", "after_step"]
    hooks += ["wake_for_step", "flush"]
    live = ["observe", "judge", "pace", "step_done", "spent", "take", "summary"]
    return _methods(Recorder, listener + hooks) + [Point("event", LiveMonitor, n) for n in live]


def probe_points() -> list[Point]:
    """The probe functions the evidence builder calls, as it refers to them (its module's names)."""
    skip = {"dataclass", "field", "contextmanager", "replace"}
    points = []
    for name, obj in vars(build).items():
        if name.startswith("__") or name in skip or not inspect.isfunction(obj):
            continue
        module = getattr(obj, "__module__", "") or ""
        if module.startswith("deadpan.capture") and name not in ("build_evidence", "preserved_rng"):
            points.append(Point("probe", build, name))
    return points


def check_points() -> list[Point]:
    return [Point("check", cls, "judge") for cls in all_checks()]


def report_points() -> list[Point]:
    return [
        Point("report", Report, "to_json"),
        Point("report", Report, "to_html"),
        Point("report", terminal, "print_report"),
    ]


def all_points() -> list[Point]:
    return event_points() + probe_points() + check_points() + report_points()


@contextlib.contextmanager
def injected(point: Point, mode: str) -> Iterator[list[int]]:
    """Replace ``point`` for the block; yields a one-item list counting the calls."""
    original = inspect.getattr_static(point.owner, point.name)
    real = getattr(point.owner, point.name)
    calls = [0]

    def fault(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if mode == "raise":
            raise InjectedFault(f"injected fault in {point.id}")
        if mode == "nan":
            return float("nan")
        time.sleep(SLOW_SECONDS)
        return real(*args, **kwargs)

    replacement: Callable[..., Any] | staticmethod[..., Any] = fault
    if isinstance(original, staticmethod):
        replacement = staticmethod(fault)
    elif inspect.isclass(point.owner) and not isinstance(original, classmethod):
        # An instance method: ``real`` is the plain function, which takes ``self`` from ``args``.
        pass
    setattr(point.owner, point.name, replacement)
    try:
        yield calls
    finally:
        setattr(point.owner, point.name, original)
