"""The ``deadpan`` command line: run, demo, checks, explain, and the ``bench`` commands
(:mod:`deadpan.cli.bench`).

deadpan's own output goes to stderr so the script's stdout stays exactly what it would be under ``python``.
``deadpan.cli:main`` is the console entry point; ``python -m deadpan`` and ``python -m deadpan.cli`` run it.
"""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deadpan.cli.bench import bench_app

if TYPE_CHECKING:
    from deadpan.findings import Report
    from deadpan.fixes.options import VerifyOptions
    from deadpan.scenarios.registry import Scenario

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Why does my network give the same answer to every input? deadpan finds out.",
)


class FailOn(str, Enum):
    collapsed = "collapsed"
    degraded = "degraded"


def _exit_code(verdict: str, script_status: int, fail_on: FailOn | None, trained: bool = False) -> int:
    """The script's own status, except: 1 when ``--fail-on`` matches; 2 when the run is inconclusive and
    deadpan saw no training step (``trained``: it saw one; then the script's status stands)."""
    if fail_on is not None:
        failing = {"collapsed"} if fail_on is FailOn.collapsed else {"collapsed", "degraded"}
        if verdict in failing:
            return 1
    if script_status != 0:
        return script_status
    if verdict == "inconclusive" and not trained:
        return 2
    return 0


@app.command(
    context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
)
def run(
    script: Annotated[
        Path,
        typer.Argument(
            help="The training script, run as __main__ (or a Python command on PATH, e.g. torchrun).",
            show_default=False,
        ),
    ],
    script_args: Annotated[list[str] | None, typer.Argument(help="Arguments passed to the script.")] = None,
    json: Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Write the report as one self-contained HTML page with plots here."),
    ] = None,
    max_steps: Annotated[
        int | None,
        typer.Option(
            "--max-steps", help="Stop the training after N optimizer (or Keras) steps, then diagnose."
        ),
    ] = None,
    stop_on: Annotated[
        str | None,
        typer.Option(
            "--stop-on",
            metavar="collapsed",
            help="Stop the training when the output collapses (live checks warn 'collapsed at step N' "
            "either way), then diagnose.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not print the report.")] = False,
    fail_on: Annotated[
        FailOn | None,
        typer.Option("--fail-on", help="Exit 1 when the verdict is this (or worse), e.g. in CI."),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Prove the top causes: train each one's fix on a copy next to an untouched control, then "
            "re-rank (PyTorch and Keras runs; Keras trials run in this process).",
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Local processes for --verify's trials (1: in this process; default: this process, or one "
            "per core on 4+ cores when the trials are long).",
        ),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="ADDRESS",
            help="Run --verify's trials as Ray tasks on the cluster at ADDRESS ('auto', 'ray://host:10001', "
            "or 'local' to start one here). Needs pip install 'deadpan\\[ray]'.",
        ),
    ] = None,
    search: Annotated[
        bool,
        typer.Option(
            "--search/--no-search",
            help="When the output is broken and no check is sure why, train copies that each change one "
            "stage (learning rate, loop, initialisation, inputs, regularisation, activations, length) and "
            "name the stage whose change restores learning.",
        ),
    ] = True,
    disable: Annotated[
        list[str] | None,
        typer.Option(
            "--disable",
            metavar="CODE",
            help="Switch a check off (its code or name, e.g. DP401; repeat for several): the diagnosis then "
            "has to find its fault by other evidence.",
        ),
    ] = None,
    search_budget: Annotated[
        float | None,
        typer.Option(
            "--search-budget",
            metavar="SECONDS",
            min=1.0,
            help="Seconds the search may take (default: your training's own time, or enough for the "
            "control and three interventions at your step time, within 15-60 s).",
        ),
    ] = None,
) -> None:
    """Run an unmodified training script with deadpan attached, then diagnose it.

    PyTorch loops (plain, Lightning, Hugging Face Trainer) and Keras 3 `fit`/`train_on_batch` are observed
    without changing the script; a live check warns when the output collapses. The script's output and exit
    status are kept; deadpan's report goes to stderr. Exit status: the script's own; 2 when deadpan saw no
    model or no training step; 1 when --fail-on matches. The script runs with your own rights, exactly as
    `python SCRIPT` would run it.
    """
    from deadpan.reports.terminal import print_report
    from deadpan.script.autolog import resolve_script, run_script
    from deadpan.script.workers import in_worker

    if resolve_script(script) is None:
        typer.echo(f"deadpan: no such script: {script}", err=True)
        raise typer.Exit(2)
    from deadpan.checks import disabled

    _check_run_options(workers, ray, verify, disable, stop_on)
    options = _trial_options(workers, ray, not quiet, verify, search, search_budget)
    with disabled(disable or []):
        result = run_script(
            script,
            list(script_args or []),
            max_steps=max_steps,
            verify=options,
            stop_on="collapsed" if stop_on else None,
        )
    report = result.report
    if result.rank != 0 or in_worker():
        # A worker of a distributed run: rank 0 reports for every rank (or leaves it to the parent deadpan).
        raise typer.Exit(result.status)
    if json is not None:
        _write("the JSON report", report.to_json, json)
    if html is not None:
        _write("the HTML report", report.to_html, html, title=f"deadpan: {script.name}")
    if not quiet:
        if result.ended == "max-steps":
            typer.echo(
                f"deadpan: stopped the training after {max_steps} optimizer steps (--max-steps).", err=True
            )
        elif result.ended == "collapsed":
            live = report.metrics.get("live", {})
            typer.echo(
                f"deadpan: stopped the training: the output collapsed at step {live.get('collapsed_at')} "
                "(--stop-on collapsed).",
                err=True,
            )
        _write("the report", print_report, report)
    trained = isinstance(steps := report.metrics.get("steps"), int) and steps > 0
    raise typer.Exit(_exit_code(report.verdict, result.status, fail_on, trained))


def _check_run_options(
    workers: int | None, ray: str | None, verify: bool, disable: list[str] | None, stop_on: str | None
) -> None:
    """Exit 2 with a one-line message on options that do not fit together, before the script runs."""
    from deadpan.checks import get_check

    if (workers is not None or ray is not None) and not verify:
        typer.echo("deadpan: --workers and --ray apply to --verify's fix trials; add --verify.", err=True)
        raise typer.Exit(2)
    unknown = [code for code in disable or [] if get_check(code) is None]
    if unknown:
        typer.echo(f"deadpan: --disable: no check {unknown[0]!r} (`deadpan checks` lists them).", err=True)
        raise typer.Exit(2)
    if stop_on not in (None, "collapsed"):
        typer.echo(f"deadpan: --stop-on takes 'collapsed', not {stop_on!r}", err=True)
        raise typer.Exit(2)


def _trial_options(
    workers: int | None,
    ray: str | None,
    progress: bool,
    verify: bool,
    search: bool,
    search_budget: float | None,
) -> VerifyOptions:
    """How the trials on copies run; with ``--verify`` its runner is made now, so that an unreachable Ray
    cluster stops the command before the training (exit 2)."""
    from deadpan.fixes.options import VerifyOptions

    options = VerifyOptions(
        workers=workers, ray=ray, progress=progress, verify=verify, search=search, search_budget=search_budget
    )
    if not verify:
        return options
    from deadpan.fixes.runner import RunnerUnavailable

    try:
        return options.connect()
    except RunnerUnavailable as exc:
        typer.echo(f"deadpan: {exc}", err=True)
        raise typer.Exit(2) from None


def _write(what: str, write: Callable[..., object], *args: Any, **kwargs: Any) -> None:
    """Write a report; a failure is told on stderr (``deadpan run`` still exits with the script's status)."""
    try:
        write(*args, **kwargs)
    except Exception as exc:
        typer.echo(f"deadpan: could not write {what}: {type(exc).__name__}: {exc}", err=True)


@app.command()
def demo(
    all_: Annotated[
        bool, typer.Option("--all", help="Run every built-in scenario, not just the selection.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print each full report.")] = False,
    json: Annotated[
        Path | None, typer.Option("--json", help="Write each report as JSON into this folder.")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write each report as an HTML page into this folder.")
    ] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Run only these scenarios.")] = None,
    framework: Annotated[
        str,
        typer.Option(
            "--framework",
            help="torch, keras or all (Keras scenarios need `pip install deadpan\\[keras]`; the Keras "
            "backend is KERAS_BACKEND's, TensorFlow by default).",
        ),
    ] = "all",
) -> None:
    """Diagnose the built-in broken (and healthy) PyTorch and Keras trainings; show each verdict and cause."""
    from rich.console import Console
    from rich.table import Table

    from deadpan.script.autolog import run_callable

    if framework not in ("torch", "keras", "all"):
        typer.echo(f"deadpan: --framework must be torch, keras or all, not {framework!r}", err=True)
        raise typer.Exit(2)
    console = Console(highlight=False, width=max(120, Console().width))
    chosen, title = _demo_scenarios(console, only, all_, framework)
    table = Table(title=title)
    for col in ("scenario", "framework", "verdict", "top cause", "expected", "ok", "s"):
        table.add_column(col, no_wrap=True)
    right = 0
    for folder in (json, html):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
    for i, sc in enumerate(chosen, 1):
        t0 = time.perf_counter()
        report = run_callable(sc.train).report
        secs = time.perf_counter() - t0
        ok = report.verdict == "healthy" if sc.healthy else report.top_cause == sc.expected
        right += ok
        console.print(f"[bold][{i}/{len(chosen)}] {sc.name}[/bold]: {sc.description}")
        _print_demo_report(console, report, verbose)
        if json is not None:
            report.to_json(json / f"{sc.name}.json")
        if html is not None:
            report.to_html(html / f"{sc.name}.html", title=f"deadpan demo: {sc.name}")
        table.add_row(
            sc.name,
            sc.framework,
            report.verdict,
            report.top_cause or "-",
            sc.expected or "healthy",
            "yes" if ok else "NO",
            f"{secs:.1f}",
        )
    console.print(table)
    console.print(f"{right}/{len(chosen)} diagnosed as expected.")


def _demo_scenarios(
    console: Any, only: list[str] | None, all_: bool, framework: str
) -> tuple[list[Scenario], str]:
    """The scenarios ``deadpan demo`` runs (``only``: by name; else the demo's selection, or ``all_``, of
    ``framework``'s), and the title of its table."""
    from deadpan.scenarios.registry import all_scenarios, get, keras_available

    if framework in ("keras", "all") and not keras_available():
        console.print(
            "Keras is not installed: showing the PyTorch scenarios only (pip install deadpan\\[keras])."
        )
        framework = "torch"
    if only:  # by name: only their framework's zoo is loaded (importing Keras costs seconds)
        chosen = [get(n) for n in only]
    else:
        chosen = [s for s in all_scenarios(None if framework == "all" else framework) if all_ or s.demo]
    title = "deadpan demo: built-in trainings"
    if any(sc.framework == "keras" for sc in chosen):
        import keras

        title += f" (Keras backend: {keras.backend.backend()})"
    return chosen, title


def _print_demo_report(console: Any, report: Report, verbose: bool) -> None:
    """One scenario's report: in full (``verbose``), else its verdict, top cause and fix."""
    from deadpan.reports.terminal import print_report

    if verbose:
        print_report(report, file=sys.stdout)
        return
    console.print(f"    verdict {report.verdict}", end="")
    if report.causes:
        top = report.causes[0]
        console.print(f"; top cause {top.category} (confidence {top.confidence:.2f})")
        console.print(f"    fix: {top.fix}", style="cyan")
    else:
        console.print("")


@app.command("checks")
def list_checks() -> None:
    """List every check: code, name, cause category."""
    from rich.console import Console
    from rich.table import Table

    from deadpan.checks import all_checks

    table = Table(title="deadpan checks")
    for col in ("code", "name", "category", "what it detects"):
        table.add_column(col)
    for cls in all_checks():
        first = (inspect.getdoc(cls) or "").splitlines()[0]
        table.add_row(cls.code, cls.name, cls.category, first)
    Console(highlight=False).print(table)


@app.command()
def explain(code: Annotated[str, typer.Argument(help="A check code (DP301) or name.")]) -> None:
    """Print what a check detects, why it makes the output constant, and the fix."""
    from deadpan.checks import get_check

    cls = get_check(code)
    if cls is None:
        typer.echo(f"deadpan: no check {code!r}; `deadpan checks` lists them.", err=True)
        raise typer.Exit(2)
    typer.echo(f"{cls.code} {cls.name}  ({cls.category})\n")
    typer.echo(inspect.getdoc(cls) or "")


app.add_typer(bench_app, name="bench")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
