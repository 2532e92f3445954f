"""A spawned child's start-up under ``deadpan run`` (:mod:`deadpan.script.workers` points the child here)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from deadpan.script.workers import OPTIONS_ENV, in_worker


def spawn_main(**kwds: Any) -> None:
    """A spawned child's start-up under ``deadpan run``: the child's work (``multiprocessing``'s own
    ``spawn_main``) runs with deadpan attached; the child exits with the status it would have had."""
    from multiprocessing import spawn

    raw = os.environ.get(OPTIONS_ENV)
    if not in_worker() or raw is None:
        spawn.spawn_main(**kwds)
        return
    try:
        options = json.loads(raw)
        from deadpan.script.autolog import run_callable
    except Exception:  # deadpan cannot attach: the child runs as it would without it
        spawn.spawn_main(**kwds)
        return
    result = run_callable(
        lambda: spawn.spawn_main(**kwds),
        max_steps=options.get("max_steps"),
        stop_on=options.get("stop_on"),
        worker=True,
    )
    sys.stdout.flush()
    sys.exit(result.status)
