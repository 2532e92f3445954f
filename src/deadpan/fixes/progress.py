"""Progress bars for fix trials, on stderr, only on a terminal: one row per trial with its current step."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

from deadpan.fixes.runner import Progress, TrialJob


class TrialBars:
    """A rich progress display with a bar per trial (the control and each fix), advanced by step reports."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.rows: dict[str, Any] = {}

    def planned(self, jobs: list[TrialJob]) -> None:
        for job in jobs:
            self.rows[job.key] = self.bar.add_task(job.label or job.key, total=job.steps or None)

    def step(self, key: str, done: int, total: int) -> None:
        row = self.rows.get(key)
        if row is not None:
            self.bar.update(row, completed=done, total=total)

    def finished(self, key: str, ok: bool) -> None:
        row = self.rows.get(key)
        if row is not None:
            task = self.bar.tasks[row]
            label = task.description + ("" if ok else " (failed)")
            self.bar.update(row, completed=task.total or 0, description=label)


@contextlib.contextmanager
def trial_progress(
    enabled: bool = True,
) -> Iterator[tuple[Callable[[list[TrialJob]], None] | None, Progress | None]]:
    """``(on_plan(jobs), progress)`` driving a bar per trial; ``(None, None)`` when disabled or stderr is
    not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None, None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    bar = RichProgress(
        TextColumn("deadpan fix trial: {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    bars = TrialBars(bar)
    with bar:
        yield bars.planned, bars
