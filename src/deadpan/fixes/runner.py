"""Where trials run: in this process, in a local pool of worker processes, or as tasks on a Ray cluster.

Every runner takes the same jobs (a key, a :class:`TrialSetup`, a time limit) and returns one
:class:`TrialOutcome` per job: metrics, or the error that stopped it. A trial that raises, runs past its
limit or takes its worker down is recorded as failed; the other trials and the report go on.

Setups sent to another process travel as cloudpickle bytes: a model class defined in the user's script
(``__main__`` under ``deadpan run``) is pickled by value, so a fresh worker process or a Ray node can rebuild
it. Trials in this process are not pickled at all.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any, Protocol

from deadpan.fixes.base import Setup, TrialSetup
from deadpan.fixes.keras_trial import train_keras_trial
from deadpan.fixes.trial import TrialMetrics, TrialTimeout, train_torch_trial

#: Seconds a worker gets beyond the trial's own limit (start-up, unpickling) before the runner gives up on it.
GRACE_SECONDS = 30.0


def train_trial(
    setup: Setup,
    time_limit: float | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> TrialMetrics:
    """Train one trial in this process, PyTorch or Keras: see :func:`~deadpan.fixes.trial.train_torch_trial`
    and :func:`~deadpan.fixes.keras_trial.train_keras_trial`."""
    if isinstance(setup, TrialSetup):
        return train_torch_trial(setup, time_limit, on_step)
    return train_keras_trial(setup, time_limit, on_step)


class Progress(Protocol):
    """What a runner reports while trials run (a progress bar implements it)."""

    def step(self, key: str, done: int, total: int) -> None: ...

    def finished(self, key: str, ok: bool) -> None: ...


@dataclass(frozen=True)
class TrialJob:
    key: str
    setup: Setup
    time_limit: float
    #: For progress: what the trial is, and its step budget.
    label: str = ""
    steps: int = 0
    #: Expected seconds (the user's step time x the budget), None when unknown.
    estimate: float | None = None


@dataclass(frozen=True)
class TrialOutcome:
    key: str
    metrics: TrialMetrics | None
    error: str | None = None


def pack(setup: Setup) -> bytes:
    """``setup`` as bytes any runner can ship. cloudpickle pickles classes defined in ``__main__`` (the
    user's script) by value; classes in the user's own modules are imported by name in the worker, which
    gets this process's import path."""
    import cloudpickle

    return bytes(cloudpickle.dumps(setup))


def _error(exc: BaseException) -> str:
    if isinstance(exc, TrialTimeout):
        return str(exc)
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[-400:]


def run_packed(
    payload: bytes, time_limit: float, on_step: Callable[[int, int], None] | None = None
) -> TrialMetrics:
    """Unpack and train one trial (the function every runner calls, in whichever process)."""
    import cloudpickle

    setup: Setup = cloudpickle.loads(payload)
    return train_trial(setup, time_limit, on_step)


def _run_reporting(payload: bytes, time_limit: float, key: str, queue: Any) -> TrialMetrics:
    """:func:`run_packed` in a worker process, putting ``(key, done, total)`` on ``queue`` as it goes."""

    def report(done: int, total: int) -> None:
        with contextlib.suppress(Exception):  # progress is best effort
            queue.put_nowait((key, done, total))

    return run_packed(payload, time_limit, report)


class RunnerUnavailable(RuntimeError):
    """The runner the user asked for cannot start (Ray not installed, its cluster unreachable)."""


class Runner(Protocol):
    #: Shown in the report ("this process", "4 local processes", "ray://host:10001").
    where: str

    def run(self, jobs: Sequence[TrialJob], progress: Progress | None = None) -> list[TrialOutcome]: ...


class InProcess:
    """Trials one after another in this process: no start-up cost, and any model or loss will do (nothing
    is pickled; the trial trains its own deep copy). The time limit is checked between steps."""

    where = "this process"

    def run(self, jobs: Sequence[TrialJob], progress: Progress | None = None) -> list[TrialOutcome]:
        torch = sys.modules.get("torch")  # a Keras run's trials do not load it
        threads = torch.get_num_threads() if torch is not None else None
        out = []
        try:
            for job in jobs:
                on_step = None
                if progress is not None:
                    on_step = functools.partial(progress.step, job.key)
                try:
                    metrics = train_trial(job.setup, job.time_limit, on_step)
                    out.append(TrialOutcome(job.key, metrics))
                except Exception as exc:
                    out.append(TrialOutcome(job.key, None, _error(exc)))
                if progress:
                    progress.finished(job.key, out[-1].metrics is not None)
        finally:
            if torch is not None and threads is not None:
                torch.set_num_threads(threads)
        return out


def _init_worker(path: list[str]) -> None:
    """A worker sees the caller's import path (the user's script directory, their packages) and uses one
    torch thread: the pool's parallelism is across trials."""
    import torch

    sys.path[:] = path
    torch.set_num_threads(1)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


class LocalPool:
    """Trials spread over ``workers`` fresh processes (``spawn``: no state inherited from the user's
    process). A trial past its limit plus :data:`GRACE_SECONDS` is recorded as failed and its worker is
    terminated once the rest have finished."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.where = f"{self.workers} local process{'es' if self.workers > 1 else ''}"

    def run(self, jobs: Sequence[TrialJob], progress: Progress | None = None) -> list[TrialOutcome]:
        if not jobs:
            return []
        results: dict[str, TrialOutcome] = {}
        payloads = {j.key: pack(j.setup) for j in jobs}  # raises for a setup that will not pickle
        ctx = get_context("spawn")
        manager = ctx.Manager() if progress is not None else None
        queue = manager.Queue() if manager is not None else None
        pool = ProcessPoolExecutor(
            min(self.workers, len(jobs)), mp_context=ctx, initializer=_init_worker, initargs=(list(sys.path),)
        )
        hung = False
        try:
            if queue is not None:
                futures = {
                    pool.submit(_run_reporting, payloads[j.key], j.time_limit, j.key, queue): j for j in jobs
                }
            else:
                futures = {pool.submit(run_packed, payloads[j.key], j.time_limit): j for j in jobs}
            limit = max(j.time_limit for j in jobs) + GRACE_SECONDS
            deadline = time.monotonic() + limit * max(1, -(-len(jobs) // self.workers))
            pending = set(futures)
            while pending and time.monotonic() < deadline:
                done, pending = wait(pending, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
                _drain(queue, progress)
                for fut in done:
                    job = futures[fut]
                    try:
                        results[job.key] = TrialOutcome(job.key, fut.result())
                    except Exception as exc:
                        results[job.key] = TrialOutcome(job.key, None, _error(exc))
                    if progress:
                        progress.finished(job.key, results[job.key].metrics is not None)
            for fut in pending:
                hung = True
                job = futures[fut]
                results[job.key] = TrialOutcome(job.key, None, f"the trial did not finish within {limit:g} s")
                if progress:
                    progress.finished(job.key, False)
        finally:
            if hung:
                for proc in list(getattr(pool, "_processes", {}).values()):
                    proc.terminate()
            pool.shutdown(wait=not hung, cancel_futures=True)
            if manager is not None:
                manager.shutdown()
        return [results[j.key] for j in jobs]


#: How often the pool checks for finished trials and step reports.
POLL_SECONDS = 0.2


def _drain(queue: Any, progress: Progress | None) -> None:
    """Pass the step reports waiting on ``queue`` to ``progress``."""
    if queue is None or progress is None:
        return
    while True:
        try:
            key, done, total = queue.get_nowait()
        except Exception:
            return
        progress.step(key, done, total)


class RayRunner:
    """Trials as Ray tasks (one CPU each) on the cluster at ``address`` ("auto" for the one this machine
    belongs to, "local" to start one here). Ray is an optional dependency: ``pip install deadpan[ray]``."""

    def __init__(self, address: str, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise RunnerUnavailable(
                "running trials on Ray needs Ray: pip install 'deadpan[ray]' (or pass --workers N for a "
                "local process pool instead)"
            ) from exc
        self.address = address
        self.where = f"Ray at {address}"
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False}
            if address == "local":
                kwargs["num_cpus"] = num_cpus or os.cpu_count() or 1
                kwargs["include_dashboard"] = False
            else:
                kwargs["address"] = address
                _check_reachable(address)
            try:
                ray.init(**kwargs)
            except Exception as exc:
                raise RunnerUnavailable(f"could not reach the Ray cluster at {address!r}: {exc}") from exc

    def run(self, jobs: Sequence[TrialJob], progress: Progress | None = None) -> list[TrialOutcome]:

        # Step reports travel through a Ray queue (an actor holding no CPU), polled while the tasks run.
        queue = _ray_queue() if progress is not None else None
        try:
            return self._run(jobs, progress, queue)
        finally:
            if queue is not None:
                with contextlib.suppress(Exception):
                    queue.shutdown()

    def _run(self, jobs: Sequence[TrialJob], progress: Progress | None, queue: Any) -> list[TrialOutcome]:
        import ray

        remote = ray.remote(num_cpus=1, max_retries=0)(_ray_trial)
        refs = {remote.remote(pack(j.setup), j.time_limit, j.key, queue): j for j in jobs}
        results: dict[str, TrialOutcome] = {}
        limit = max((j.time_limit for j in jobs), default=0.0) + GRACE_SECONDS
        deadline = time.monotonic() + limit * max(1, len(jobs))
        pending = list(refs)
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            wait = min(POLL_SECONDS, left) if queue is not None else left
            ready, pending = ray.wait(pending, num_returns=1, timeout=wait)
            _drain(queue, progress)
            for ref in ready:
                job = refs[ref]
                try:
                    results[job.key] = TrialOutcome(job.key, ray.get(ref))
                except Exception as exc:
                    cause = getattr(exc, "cause", None) or exc
                    results[job.key] = TrialOutcome(job.key, None, _error(cause))
                if progress:
                    progress.finished(job.key, results[job.key].metrics is not None)
        for ref in pending:
            ray.cancel(ref, force=True)
            job = refs[ref]
            results[job.key] = TrialOutcome(job.key, None, f"the trial did not finish within {limit:g} s")
            if progress:
                progress.finished(job.key, False)
        return [results[j.key] for j in jobs]


#: Seconds to wait for a TCP connection to a Ray address before calling it unreachable. Ray itself retries an
#: unreachable head node for minutes.
CONNECT_SECONDS = 5.0


def _check_reachable(address: str) -> None:
    """Raise :class:`RunnerUnavailable` when ``host:port`` (or ``ray://host:port``) takes no TCP connection
    within :data:`CONNECT_SECONDS`; "auto" and bare names are left to Ray, which fails fast on them."""
    import socket

    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS):
            pass
    except OSError as exc:
        raise RunnerUnavailable(
            f"could not reach the Ray cluster at {address!r}: {exc.strerror or exc} (is `ray start --head` "
            "running there, and is the port open?)"
        ) from exc


def _ray_queue() -> Any:
    """A Ray queue for step reports, or None when one cannot be made (progress is best effort)."""
    try:
        from ray.util.queue import Queue

        return Queue(actor_options={"num_cpus": 0})
    except Exception:
        return None


def _ray_trial(payload: bytes, time_limit: float, key: str = "", queue: Any = None) -> TrialMetrics:
    import torch

    torch.set_num_threads(1)
    if queue is None:
        return run_packed(payload, time_limit)
    return _run_reporting(payload, time_limit, key, queue)


#: Trials expected to take less than this in all run in this process: starting a pool of fresh processes
#: (each importing torch) costs about 3 s on 2 cores, more than such trials gain from it.
POOL_WORTH_SECONDS = 10.0
#: Below this many cores a pool does not pay even for long trials: in this process torch already spreads each
#: trial's matrix work over the cores. Measured on 2 cores (benchmarks/verify_runners.py --heavy): 3 trials of
#: a 1.1M-parameter MLP took 11.2 s here, 15.5 s in a pool of 2 and 22.0 s in a pool of 1.
POOL_MIN_CORES = 4


class Auto:
    """The default: this process, unless the trials are long and the machine has cores enough for a pool to
    beat torch's own threading (one worker per core then), or their cost is unknown on such a machine."""

    def __init__(self) -> None:
        self.pool = LocalPool(None)
        self.where = "this process or a local pool (by expected cost)"

    def choose(self, jobs: Sequence[TrialJob]) -> Runner:
        estimates = [j.estimate for j in jobs]
        if len(jobs) <= 1 or self.pool.workers < POOL_MIN_CORES:
            return InProcess()
        if all(e is not None for e in estimates) and sum(e or 0.0 for e in estimates) < POOL_WORTH_SECONDS:
            return InProcess()
        return self.pool

    def run(self, jobs: Sequence[TrialJob], progress: Progress | None = None) -> list[TrialOutcome]:
        runner = self.choose(jobs)
        self.where = f"{runner.where} (chosen by expected cost)"
        return runner.run(jobs, progress)


def make_runner(workers: int | None = None, ray: str | None = None) -> Runner:
    """The runner the options ask for: Ray at ``ray``; ``workers=1`` runs the trials in this process,
    ``workers=N`` in a local pool of N processes; by default :class:`Auto` picks by the trials' expected
    cost."""
    if ray:
        return RayRunner(ray)
    if workers == 1:
        return InProcess()
    if workers is None:
        return Auto()
    return LocalPool(workers)
