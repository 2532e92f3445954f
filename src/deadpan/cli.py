"""The ``deadpan`` command line: run, demo, checks, explain.

deadpan's own output goes to stderr so the script's stdout stays exactly what it would be under ``python``.
"""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Why does my network give the same answer to every input? deadpan finds out.",
)


class FailOn(str, Enum):
    collapsed = "collapsed"
    degraded = "degraded"


def _exit_code(verdict: str, script_status: int, fail_on: FailOn | None) -> int:
    if fail_on is not None:
        failing = {"collapsed"} if fail_on is FailOn.collapsed else {"collapsed", "degraded"}
        if verdict in failing:
            return 1
    if script_status != 0:
        return script_status
    if verdict == "inconclusive":
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
) -> None:
    """Run an unmodified training script with deadpan attached, then diagnose it.

    PyTorch loops (plain, Lightning, Hugging Face Trainer) and Keras 3 `fit`/`train_on_batch` are observed
    without changing the script; a live check warns when the output collapses. The script's output and exit
    status are kept; deadpan's report goes to stderr. Exit status: the script's own; 2 when deadpan saw no
    model or no training step; 1 when --fail-on matches. The script runs with your own rights, exactly as
    `python SCRIPT` would run it.
    """
    from deadpan.capture.autolog import resolve_script, run_script
    from deadpan.capture.workers import in_worker
    from deadpan.reports.terminal import print_report

    if resolve_script(script) is None:
        typer.echo(f"deadpan: no such script: {script}", err=True)
        raise typer.Exit(2)
    from deadpan.fixes.options import VerifyOptions

    if (workers is not None or ray is not None) and not verify:
        typer.echo("deadpan: --workers and --ray apply to --verify's fix trials; add --verify.", err=True)
        raise typer.Exit(2)
    if stop_on not in (None, "collapsed"):
        typer.echo(f"deadpan: --stop-on takes 'collapsed', not {stop_on!r}", err=True)
        raise typer.Exit(2)
    options = None
    if verify:
        from deadpan.fixes.runner import RunnerUnavailable

        try:
            options = VerifyOptions(workers=workers, ray=ray, progress=not quiet).connect()
        except RunnerUnavailable as exc:
            typer.echo(f"deadpan: {exc}", err=True)
            raise typer.Exit(2) from None
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
    raise typer.Exit(_exit_code(report.verdict, result.status, fail_on))


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

    from deadpan.capture.autolog import run_callable
    from deadpan.reports.terminal import print_report
    from deadpan.scenarios.registry import all_scenarios, get, keras_available

    if framework not in ("torch", "keras", "all"):
        typer.echo(f"deadpan: --framework must be torch, keras or all, not {framework!r}", err=True)
        raise typer.Exit(2)
    console = Console(highlight=False, width=max(120, Console().width))
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
        if verbose:
            print_report(report, file=sys.stdout)
        else:
            console.print(f"    verdict {report.verdict}", end="")
            if report.causes:
                top = report.causes[0]
                console.print(f"; top cause {top.category} (confidence {top.confidence:.2f})")
                console.print(f"    fix: {top.fix}", style="cyan")
            else:
                console.print("")
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


bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks of deadpan itself.")
app.add_typer(bench_app, name="bench")


@bench_app.command("accuracy")
def bench_accuracy(
    quick: Annotated[
        bool, typer.Option("--quick", help="A fixed subset: every operator once, every task (<= 10 min).")
    ] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", "-j", help="Worker processes (default: one per core).")
    ] = None,
    json: Annotated[Path | None, typer.Option("--json", help="Write every figure and mutant here.")] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Write the README's results table here.")
    ] = None,
    task: Annotated[list[str] | None, typer.Option("--task", help="Only these base tasks.")] = None,
    operator: Annotated[
        list[str] | None, typer.Option("--operator", help="Only these mutation operators.")
    ] = None,
    framework: Annotated[str, typer.Option("--framework", help="torch, keras or all.")] = "all",
    exclude_holdout: Annotated[
        bool, typer.Option("--exclude-holdout", help="Leave out the held-out task (for tuning runs).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    list_: Annotated[
        bool, typer.Option("--list", help="List the base tasks and mutation operators, then exit.")
    ] = False,
) -> None:
    """Diagnose the fault zoo: base tasks x mutation operators, kill test, then deadpan on every killed
    mutant through the same capture `deadpan run` uses. Prints top-1/top-3 accuracy, per-category recall
    and precision, the confusion matrix and the false-alarm rate on healthy runs."""
    import os
    import shlex

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from deadpan.reports import bench as bench_report
    from deadpan.scenarios.registry import keras_available
    from deadpan.zoo import bench, summary, tasks

    if framework not in ("torch", "keras", "all"):
        typer.echo(f"deadpan: --framework must be torch, keras or all, not {framework!r}", err=True)
        raise typer.Exit(2)
    if list_:
        bench_report.print_zoo(Console(highlight=False, width=max(120, Console().width)))
        return
    unknown = [t for t in task or [] if t not in tasks.TASKS]
    if unknown:
        typer.echo(f"deadpan: unknown task(s) {unknown}; known: {', '.join(tasks.TASKS)}", err=True)
        raise typer.Exit(2)
    console = Console(stderr=True, highlight=False)
    frameworks = ["torch", "keras"] if framework == "all" else [framework]
    if "keras" in frameworks and not keras_available():
        console.print(
            "Keras is not installed: benchmarking the PyTorch tasks only (pip install deadpan\\[keras])."
        )
        frameworks = ["torch"]
    try:
        sel = bench.select(quick, task, operator, include_holdout=not exclude_holdout, frameworks=frameworks)
    except KeyError as e:
        typer.echo(f"deadpan: {e.args[0]}", err=True)
        raise typer.Exit(2) from None
    n_workers = workers or os.cpu_count() or 1
    t0 = time.perf_counter()
    show = not quiet and console.is_terminal
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not show,
    ) as bar:
        job = bar.add_task("fault zoo", total=None)
        mutants, healthy = bench.run(
            sel, n_workers, progress=lambda done, total, label: bar.update(job, completed=done, total=total)
        )
    command = "deadpan bench accuracy " + " ".join(shlex.quote(a) for a in sys.argv[3:])
    s = summary.summarize(
        mutants,
        healthy,
        command=command.strip(),
        quick=quick,
        workers=n_workers,
        seconds=time.perf_counter() - t0,
    )
    bench_report.render(s, Console(highlight=False, width=max(120, Console().width)))
    if json is not None:
        import json as json_lib

        json.write_text(json_lib.dumps(s, indent=1) + "\n")
    if markdown is not None:
        markdown.write_text(bench_report.markdown(s))


@bench_app.command("verify")
def bench_verify(
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-j", help="Local processes for the trials (default 1: in this process)."),
    ] = 1,
    json: Annotated[Path | None, typer.Option("--json", help="Write every scenario's result here.")] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Only these scenarios.")] = None,
    framework: Annotated[str, typer.Option("--framework", help="torch, keras or all.")] = "all",
) -> None:
    """Run every broken scenario with --verify and count how often its top verified fix restores a model that
    is not collapsed and reaches 90% of its healthy twin's score (the same training without the fault)."""
    from rich.console import Console
    from rich.table import Table

    from deadpan.fixes import bench as fix_bench
    from deadpan.fixes.runner import make_runner
    from deadpan.scenarios.registry import keras_available

    if framework not in ("torch", "keras", "all"):
        typer.echo(f"deadpan: --framework must be torch, keras or all, not {framework!r}", err=True)
        raise typer.Exit(2)
    if framework in ("keras", "all") and not keras_available():
        typer.echo("Keras is not installed: the PyTorch scenarios only (pip install deadpan[keras]).")
        framework = "torch"
    t0 = time.perf_counter()
    outcomes = fix_bench.run(make_runner(workers), list(only) if only else None, framework)
    s = fix_bench.summary(outcomes)
    s["seconds"] = round(time.perf_counter() - t0, 1)
    table = Table("scenario", "category", "top verified fix", "score", "all fixes", "twin", "restored", "s")
    for o in outcomes:
        if not o.counted:
            table.add_row(o.name, o.category, f"[dim]not counted: {o.reason}[/dim]", "", "", "", "", "")
            continue
        fix = f"{o.fix} ({o.fix_cause})" if o.fix else f"[red]{o.reason}[/red]"
        score = f"{o.score:.2f}" if o.score is not None else ""
        twin = f"{o.twin_score:.2f}" if o.twin_score is not None else ""
        together = f"{o.combined_score:.2f}" if o.combined_score is not None else ""
        restored = "yes" if o.restored else ("together" if o.combined_restored else "[red]no[/red]")
        table.add_row(o.name, o.category, fix, score, together, twin, restored, f"{o.seconds:.0f}")
    console = Console(highlight=False, width=max(140, Console().width))
    console.print(table)
    frac = s["fraction"]
    console.print(
        f"restored: {s['restored']}/{s['n']}"
        + (f" ({frac:.2f})" if frac is not None else "")
        + f" by the top verified fix; {s['restored_with_combined']}/{s['n']} with all verified fixes together"
        + f" (in {s['seconds']} s)"
    )
    for fw, row in s["per_framework"].items():
        console.print(f"  {fw:24s} {row['restored']}/{row['n']}")
    for cat, row in sorted(s["per_category"].items()):
        console.print(f"  {cat:24s} {row['restored']}/{row['n']}")
    if json is not None:
        import json as json_lib

        json.write_text(json_lib.dumps(s, indent=1) + "\n")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
