"""A progress bar for fix trials, on stderr, only on a terminal."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

OnPlan = Callable[[int], None]
OnTrial = Callable[[str, bool], None]


@contextlib.contextmanager
def trial_progress(enabled: bool = True) -> Iterator[tuple[OnPlan | None, OnTrial | None]]:
    """``(on_plan(total), on_trial(key, ok))`` callbacks driving a rich progress bar; (None, None) when
    disabled or stderr is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None, None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("deadpan: fix trials"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("", total=None)

    def on_plan(total: int) -> None:
        bar.update(task, total=total)

    def on_trial(key: str, ok: bool) -> None:
        bar.update(task, advance=1, description=f"{key}{'' if ok else ' (failed)'}")

    with bar:
        yield on_plan, on_trial
