"""The accuracy benchmark: train every mutant over several seeds, keep the ones that really harm their
task, and diagnose each through the same path ``deadpan run`` uses (capture of an unmodified training
function, then diagnosis).

Work is spread over worker processes (``spawn``, one torch thread each). Every job is a plain function of
picklable arguments, so the same jobs can later run on any pool.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from deadpan.fixes.options import VerifyOptions
from deadpan.zoo import kill, operators
from deadpan.zoo.config import Config
from deadpan.zoo.tasks import TASKS, Task

#: Training seeds: healthy runs (also the false-alarm sample) and mutant runs, full and --quick.
SEEDS = {"full": (8, 4), "quick": (4, 3)}


@dataclass
class Diagnosis:
    verdict: str
    #: Cause categories, ranked, most likely first.
    ranked: list[str]
    #: Wall time of the captured run (training + diagnosis), seconds.
    seconds: float
    score: float
    #: The training seed that was diagnosed.
    seed: int


@dataclass
class MutantResult:
    id: str
    task: str
    operator: str
    param: float
    category: str
    holdout: bool
    scores: list[float] = field(default_factory=list)
    diagnosis: Diagnosis | None = None
    crashed: str | None = None
    kill: kill.KillTest | None = None

    @property
    def scored(self) -> bool:
        return self.crashed is None and self.kill is not None and self.kill.killed


@dataclass
class HealthyResult:
    task: str
    seed: int
    holdout: bool
    diagnosis: Diagnosis | None = None
    crashed: str | None = None


def trainer(cfg: Config) -> Callable[[Config, int], float]:
    if cfg.framework == "keras":
        from deadpan.zoo import keras_train

        return keras_train.train
    from deadpan.zoo import torch_train

    return torch_train.train


def _quiet() -> contextlib.ExitStack:
    """Silence the training's and the capture's own output inside a worker."""
    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
    return stack


#: The diagnosis ``deadpan run`` gives by default: the checks, then the intervention search when a broken run
#: has no sure cause (trials in this process: the zoo's workers are the parallelism).
AS_RUN = VerifyOptions(workers=1, progress=False, verify=False, search=True)


def diagnose_run(cfg: Config, seed: int) -> Diagnosis:
    """Train ``cfg`` under ``deadpan run``'s capture and diagnose it as ``deadpan run`` does (with the
    search); raise if the training raised."""
    from deadpan.script.autolog import run_callable

    train = trainer(cfg)
    box: list[float] = []
    t0 = time.perf_counter()
    with _quiet():
        result = run_callable(lambda: box.append(train(cfg, seed)), verify=AS_RUN)
    seconds = time.perf_counter() - t0
    if not box:
        raise RuntimeError(f"training ended by {result.ended} (status {result.status})")
    report = result.report
    return Diagnosis(report.verdict, [c.category for c in report.causes], seconds, box[0], seed)


def _error(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[-300:]


def representative_seed(scores: list[float]) -> int:
    """The seed whose score is the (lower) median of ``scores``: the run deadpan is asked to diagnose.

    The kill test judges a mutant by its mean over seeds, and a user's broken run is a typical one. A fault
    that harms most seeds can leave one seed nearly healthy (four wine samples: one seed scores 0.93, the
    others 0.33); diagnosing that seed asks deadpan to find a fault in a run the fault spared. The median run
    is what the mutant typically does; with an even count the lower of the two middle runs is taken, ties by
    the lower seed."""
    order = sorted(range(len(scores)), key=lambda s: (scores[s], s))
    return order[(len(scores) - 1) // 2]


def run_mutant(m: operators.Mutant, holdout: bool, seeds: int) -> MutantResult:
    """Every seed trains plainly for the kill test; then the representative (median) seed is trained again
    under capture and diagnosed. Training is deterministic per seed, so its score is the one it had."""
    res = MutantResult(m.id, m.task, m.operator, m.param, m.category, holdout)
    try:
        train = trainer(m.config)
        with _quiet():
            res.scores = [train(m.config, s) for s in range(seeds)]
        res.diagnosis = diagnose_run(m.config, representative_seed(res.scores))
    except Exception as exc:
        res.crashed = _error(exc)
    return res


def run_healthy(task: Task, seed: int) -> HealthyResult:
    res = HealthyResult(task.name, seed, task.holdout)
    try:
        res.diagnosis = diagnose_run(task.base, seed)
    except Exception as exc:
        res.crashed = _error(exc)
    return res


def chance(task: Task) -> float:
    """The score of the best input-independent answer on :mod:`deadpan.zoo.scoring`'s scale."""
    if task.kind == "regression":
        return 0.0
    return 1.0 / task.classes


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@dataclass
class Selection:
    tasks: list[Task]
    mutants: list[operators.Mutant]
    healthy_seeds: int
    mutant_seeds: int


def select(
    quick: bool = False,
    tasks: Iterable[str] | None = None,
    operator_names: Iterable[str] | None = None,
    include_holdout: bool = True,
    frameworks: Iterable[str] | None = None,
) -> Selection:
    """The zoo, or its ``--quick`` subset: each operator once (its first parameter), on a task chosen in
    turn among those it applies to, so every operator and every task appear."""
    chosen = [TASKS[t] for t in tasks] if tasks else list(TASKS.values())
    if not include_holdout:
        chosen = [t for t in chosen if not t.holdout]
    if frameworks is not None:
        fw = set(frameworks)
        chosen = [t for t in chosen if t.framework in fw]
    ops = list(operator_names) if operator_names else list(operators.OPERATORS)
    unknown = [o for o in ops if o not in operators.OPERATORS]
    if unknown:
        raise KeyError(f"unknown operator(s): {', '.join(unknown)}")
    all_mutants = [m for m in operators.mutants(chosen) if m.operator in ops]
    if quick:
        picked = []
        for k, name in enumerate(ops):
            first = operators.OPERATORS[name].params[0]
            pool = [m for m in all_mutants if m.operator == name and m.param == first]
            if pool:
                picked.append(pool[k % len(pool)])
        all_mutants = picked
    h, m = SEEDS["quick" if quick else "full"]
    return Selection(chosen, all_mutants, h, m)


def run(
    sel: Selection,
    workers: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[list[MutantResult], list[HealthyResult]]:
    """Run the selection; ``progress(done, total, label)`` is called after each job."""
    holdout = {t.name: t.holdout for t in sel.tasks}
    jobs: list[tuple[Callable[..., Any], tuple[Any, ...], str]] = []
    for t in sel.tasks:
        jobs += [(run_healthy, (t, s), f"{t.name} healthy seed {s}") for s in range(sel.healthy_seeds)]
    jobs += [(run_mutant, (m, holdout[m.task], sel.mutant_seeds), m.id) for m in sel.mutants]
    # Keras jobs are the slowest: start them first so the pool does not end on a long tail.
    jobs.sort(key=lambda j: not j[2].startswith("keras-"))
    results: list[Any] = []
    if workers <= 1:
        _init_worker()
        for i, (fn, args, label) in enumerate(jobs):
            results.append(fn(*args))
            if progress:
                progress(i + 1, len(jobs), label)
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_worker) as pool:
            futures = {pool.submit(fn, *args): label for fn, args, label in jobs}
            for i, fut in enumerate(as_completed(futures)):
                results.append(fut.result())
                if progress:
                    progress(i + 1, len(jobs), futures[fut])
    healthy = [r for r in results if isinstance(r, HealthyResult)]
    mutants = [r for r in results if isinstance(r, MutantResult)]
    baseline: dict[str, list[float]] = {}
    for h in healthy:
        if h.diagnosis is not None:
            baseline.setdefault(h.task, []).append(h.diagnosis.score)
    for m in mutants:
        if m.crashed is None and len(baseline.get(m.task, [])) >= 2:
            m.kill = kill.kill_test(m.scores, baseline[m.task], chance(TASKS[m.task]))
    order = {m.id: i for i, m in enumerate(sel.mutants)}
    mutants.sort(key=lambda r: order[r.id])
    healthy.sort(key=lambda r: (r.task, r.seed))
    return mutants, healthy
