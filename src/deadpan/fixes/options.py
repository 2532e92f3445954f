"""How ``--verify`` runs: the options the CLI, :func:`deadpan.diagnose` and the run path share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deadpan.capture.build import ProbeInputs
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

    def connect(self) -> VerifyOptions:
        """These options with their runner made now; raises
        :class:`~deadpan.fixes.runner.RunnerUnavailable`."""
        from dataclasses import replace

        from deadpan.fixes.runner import make_runner

        return replace(self, runner=make_runner(self.workers, self.ray))


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
