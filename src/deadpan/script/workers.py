"""``deadpan run`` of a script whose training happens in other processes: a launcher or spawned workers.

Two ways users start data-parallel training, and how deadpan follows each into the workers:

* ``deadpan run torchrun --nproc-per-node 2 train.py``: the launcher runs in deadpan's process, and its
  worker command ``python -u train.py ...`` becomes ``python -u -m deadpan run train.py ...``.
* ``deadpan run train.py`` where the script calls ``torch.multiprocessing.spawn`` (or starts processes with
  the ``spawn`` method): each child's start-up line ``spawn_main(...)`` becomes
  :func:`deadpan.script.child.spawn_main`, which
  runs the child's work under :func:`~deadpan.script.autolog.run_callable`.

(``torchrun --nproc-per-node 2 -m deadpan run train.py`` needs neither: each worker is a ``deadpan run``.)

The workers know they are workers from :data:`ENV` (a private folder the parent made): each records and
diagnoses its own shard, rank 0 merges the ranks' reports (:mod:`deadpan.capture.distributed`) and writes the
result there as JSON; workers print no report. The parent reads it once the script has ended and reports it
as its own, with the script's exit status. A worker that is not part of a process group and trained a model
writes its own report; the parent then reports the one that trained most.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deadpan.findings import Report

#: The folder where workers leave their report; set by the parent for the script's run.
ENV = "DEADPAN_WORKER_REPORT"
#: The parent's ``--max-steps`` and ``--stop-on``, as JSON, for spawned children (torchrun workers get flags).
OPTIONS_ENV = "DEADPAN_WORKER_OPTIONS"
#: The merged report of a process group, written by its rank 0.
MERGED = "report.json"

_SPAWN_LINE = "from multiprocessing.spawn import spawn_main; spawn_main("
_OUR_LINE = "from deadpan.script.child import spawn_main; spawn_main("


def in_worker() -> bool:
    """This process runs for a ``deadpan run`` parent, which prints the report."""
    return bool(os.environ.get(ENV))


def publish(report: Report, rank: int | None) -> None:
    """Leave this worker's report for the parent: rank 0's merged report, or (outside a process group) this
    process's own. Ranks other than 0 have sent theirs to rank 0 already."""
    folder = os.environ.get(ENV)
    if not folder or (rank is not None and rank != 0):
        return
    name = MERGED if rank == 0 else f"report-{os.getpid()}.json"
    tmp = Path(folder) / (name + ".part")
    tmp.write_text(report.to_json(), encoding="utf-8")
    tmp.replace(Path(folder) / name)


class Launch:
    """The parent's side, for the length of the script's run: the folder, the environment, and the patches
    that put deadpan into the workers. Everything is undone by :meth:`stop`."""

    def __init__(self, script: Path | None, max_steps: int | None, stop_on: str | None) -> None:
        self.script = script
        self.max_steps = max_steps
        self.stop_on = stop_on
        self.folder: str | None = None
        self.notes: list[str] = []
        self._undo: list[Callable[[], None]] = []

    def start(self) -> None:
        if in_worker():  # a worker's own children report to the same parent
            return
        self.folder = tempfile.mkdtemp(prefix=f"deadpan-workers-{os.getpid()}-")
        self._set_env(ENV, self.folder)
        self._set_env(OPTIONS_ENV, json.dumps({"max_steps": self.max_steps, "stop_on": self.stop_on}))
        self._patch_spawn()
        if self.script is not None and self.script.name == "torchrun":
            self._patch_torchrun()

    def _set_env(self, key: str, value: str) -> None:
        old = os.environ.get(key)
        os.environ[key] = value

        def undo() -> None:
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old

        self._undo.append(undo)

    def _patch_spawn(self) -> None:
        from multiprocessing import spawn

        original = spawn.get_command_line

        def get_command_line(**kwds: Any) -> list[str]:
            line = original(**kwds)
            try:
                return [p.replace(_SPAWN_LINE, _OUR_LINE, 1) if isinstance(p, str) else p for p in line]
            except Exception:  # the child then runs without deadpan, never fails to start
                return line

        spawn.get_command_line = get_command_line
        self._undo.append(lambda: setattr(spawn, "get_command_line", original))

    def _patch_torchrun(self) -> None:
        import torch.distributed.run as launcher

        original = launcher.config_from_args
        flags: list[str] = []
        if self.max_steps is not None:
            flags += ["--max-steps", str(self.max_steps)]
        if self.stop_on is not None:
            flags += ["--stop-on", self.stop_on]

        def config_from_args(args: Any) -> Any:
            config, cmd, cmd_args = original(args)
            if isinstance(cmd, str) and cmd_args[:1] == ["-u"] and cmd_args[1:2] != ["-m"]:
                cmd_args = ["-u", "-m", "deadpan", "run", *flags, *cmd_args[1:]]
            else:
                self.notes.append(
                    "torchrun: deadpan follows workers started as `python train.py`; with -m, --no-python or "
                    "--run-path the workers ran without it"
                )
            return config, cmd, cmd_args

        launcher.config_from_args = config_from_args
        self._undo.append(lambda: setattr(launcher, "config_from_args", original))

    def stop(self) -> None:
        while self._undo:
            self._undo.pop()()

    def take(self) -> Report | None:
        """The workers' report (rank 0's merged one, else the one that trained most), or None; the folder is
        removed."""
        if self.folder is None:
            return None
        try:
            folder = Path(self.folder)
            merged = folder / MERGED
            if merged.is_file():
                return Report.from_json(merged.read_text(encoding="utf-8"))
            found = [
                Report.from_json(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("report-*.json"))
            ]
            if not found:
                return None
            return max(found, key=lambda r: int(r.metrics.get("steps") or 0))
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
