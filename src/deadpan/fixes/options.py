"""How the trials on copies run — ``--verify``'s fix trials and the intervention search
(:mod:`deadpan.fixes.search`): the options the CLI, :func:`deadpan.diagnose` and the run path share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deadpan.capture.probe_inputs import ProbeInputs
from deadpan.evidence import Evidence
from deadpan.findings import Report

if TYPE_CHECKING:
    from deadpan.fixes.runner import Runner


@dataclass(frozen=True)
class VerifyOptions:
    #: Local worker processes; 1: trials in this process; None: this process, or one worker per core on a
    #: machine with cores enough when the trials are long (:class:`~deadpan.fixes.runner.Auto`).
    workers: int | None = None
    #: Ray address ("auto", "ray://host:10001", "local"); None: no Ray.
    ray: str | None = None
    #: Show a progress bar (on a terminal).
    progress: bool = True
    #: Seconds one trial may run.
    time_limit: float = 120.0
    #: A runner made beforehand (:meth:`connect`), so that an unreachable cluster stops the command before
    #: the user's training runs rather than after it.
    runner: Runner | None = None
    #: Train the top causes' fixes (``--verify``).
    verify: bool = True
    #: Search interventions when a broken run has no sure cause (``--search/--no-search``).
    search: bool = False
    #: Seconds the search may take; None: the user's training time within 15..60 s.
    search_budget: float | None = None

    def connect(self) -> VerifyOptions:
        """These options with their runner made now; raises
        :class:`~deadpan.fixes.runner.RunnerUnavailable`."""
        from dataclasses import replace

        from deadpan.fixes.runner import make_runner

        return replace(self, runner=make_runner(self.workers, self.ray))


def proven(report: Report, ev: Evidence | None, pi: ProbeInputs | Any, options: VerifyOptions) -> Report:
    """``report`` after the intervention search (when asked for and needed), then the fix trials (when
    asked for). The trials leave the random state as they found it: a fix that draws fresh weights must not
    move the user's generators."""
    from deadpan.probes.rng import preserved_rng

    with preserved_rng():
        if options.search and ev is not None:
            report = searched(report, ev, pi, options)
        if options.verify:
            report = verified(report, ev, pi, options)
    return report


def searched(report: Report, ev: Evidence, pi: ProbeInputs | Any, options: VerifyOptions) -> Report:
    """``report`` with the intervention search run when the verdict is broken and no cause is sure; a
    failure inside the search is recorded, never raised."""
    from deadpan.fixes.control import budget as trial_steps
    from deadpan.fixes.search import needs_search, search, search_budget
    from deadpan.fixes.verify import user_step_seconds

    if not needs_search(report, ev):
        return report
    steps = ev.training.steps if ev.training is not None else None
    budget = options.search_budget or search_budget(user_step_seconds(pi), steps, trial_steps(ev))
    try:
        return search(report, ev, pi, budget, options.runner)
    except Exception as exc:  # a bug in the search must not cost the user the diagnosis
        import dataclasses
        import traceback

        metrics = {**report.metrics, "search": {"not_searched": f"the search failed ({type(exc).__name__})"}}
        errors = (*report.internal_errors, traceback.format_exc(limit=3))
        return dataclasses.replace(report, metrics=metrics, internal_errors=errors)


def verified(report: Report, ev: Evidence | None, pi: ProbeInputs | Any, options: VerifyOptions) -> Report:
    """``report`` with its fix trials run, or unchanged when there is nothing to verify. ``pi`` is a PyTorch
    run's probe inputs or a :class:`~deadpan.keras.run.KerasRun`. Errors that the user must act on (Ray
    missing or unreachable) propagate; anything else is recorded in the report."""
    if ev is None or report.verdict not in ("collapsed", "degraded") or not report.causes:
        return report
    from deadpan.fixes.progress import trial_progress
    from deadpan.fixes.runner import make_runner
    from deadpan.fixes.verify import verify

    runner = options.runner or make_runner(options.workers, options.ray)
    try:
        with trial_progress(options.progress) as (on_plan, progress):
            return verify(
                report, ev, pi, runner, progress=progress, time_limit=options.time_limit, on_plan=on_plan
            )
    except Exception as exc:  # a bug in the trials must not cost the user the diagnosis
        import dataclasses
        import traceback

        failed = not_verifiable(report, f"the fix trials failed ({type(exc).__name__}: {exc})")
        errors = (*failed.internal_errors, traceback.format_exc(limit=3))
        return dataclasses.replace(failed, internal_errors=errors)


def not_verifiable(report: Report, reason: str) -> Report:
    """``report`` noting that its fixes could not be trialled, and why."""
    import dataclasses

    metrics = dict(report.metrics)
    metrics["verification"] = {"not_verifiable": reason}
    return dataclasses.replace(report, metrics=metrics)
