"""``deadpan bench``: benchmarks of deadpan itself, the fault zoo's diagnosis accuracy (``accuracy``) and how
often the top verified fix restores a broken scenario (``verify``)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks of deadpan itself.")


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

    from deadpan.zoo import bench, summary, tasks
    from deadpan.zoo import report as bench_report

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
    frameworks = _bench_frameworks(console, framework)
    try:
        sel = bench.select(quick, task, operator, include_holdout=not exclude_holdout, frameworks=frameworks)
    except KeyError as e:
        typer.echo(f"deadpan: {e.args[0]}", err=True)
        raise typer.Exit(2) from None
    n_workers = workers or os.cpu_count() or 1
    t0 = time.perf_counter()
    mutants, healthy = _run_zoo(console, sel, n_workers, quiet)
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


def _bench_frameworks(console: Any, framework: str) -> list[str]:
    """The frameworks ``--framework`` names, less Keras when it is not installed (told on ``console``)."""
    from deadpan.scenarios.registry import keras_available

    frameworks = ["torch", "keras"] if framework == "all" else [framework]
    if "keras" in frameworks and not keras_available():
        console.print(
            "Keras is not installed: benchmarking the PyTorch tasks only (pip install deadpan\\[keras])."
        )
        frameworks = ["torch"]
    return frameworks


def _run_zoo(console: Any, sel: Any, n_workers: int, quiet: bool) -> tuple[Any, Any]:
    """Run the selected mutants and healthy runs on ``n_workers`` processes, with a progress bar on a
    terminal (not ``quiet``): the mutants' and the healthy runs' results."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from deadpan.zoo import bench

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
        return bench.run(
            sel, n_workers, progress=lambda done, total, label: bar.update(job, completed=done, total=total)
        )


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

    from deadpan.fixes.runner import make_runner
    from deadpan.scenarios import bench as fix_bench
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
