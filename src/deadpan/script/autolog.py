"""``deadpan run``: execute an unmodified training script as ``__main__`` with instrumentation attached.

The script runs with the user's own rights, exactly like ``python script.py``: same ``sys.argv``, its
directory first on ``sys.path``, its output untouched. Whatever way it ends (normally, by exception, by
``sys.exit``, by ``--max-steps`` or Ctrl-C), deadpan diagnoses what it captured and reports the script's
own exit status.
"""

from __future__ import annotations

import os
import runpy
import shutil
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deadpan.capture import instrument
from deadpan.capture.live import LiveMonitor, StopOn, check_stop_on
from deadpan.capture.probe_inputs import NO_MODEL
from deadpan.evidence import Evidence
from deadpan.findings import Collapse, Report, Skipped
from deadpan.fixes.options import VerifyOptions, proven
from deadpan.pipeline import evidence_and_report_of, with_live
from deadpan.script.frameworks import FrameworkRun
from deadpan.script.import_hook import AfterImport
from deadpan.script.workers import Launch, in_worker, publish

if TYPE_CHECKING:
    from deadpan.capture.probe_inputs import ProbeInputs
    from deadpan.capture.session import TorchSession
    from deadpan.keras.run import KerasRun
    from deadpan.script.keras_patch import KerasRuns
    from deadpan.script.torch_run import TorchRun


def _with_other_models(report: Report, main: Any, others: list[Any]) -> Report:
    """List the other models the script trained (the report covers the one that trained most)."""
    if not others:
        return report
    metrics = dict(report.metrics)
    metrics["model"] = str(getattr(main.model, "name", "?"))
    metrics["other_models"] = [
        {"name": str(getattr(r.model, "name", "?")), "steps": r.steps, "fit_calls": r.fit_calls}
        for r in others
    ]
    return replace(report, metrics=metrics)


@dataclass(frozen=True)
class RunResult:
    report: Report
    #: The script's own exit status (0 when it finished or was stopped by --max-steps).
    status: int
    #: How the script ended: "finished", "max-steps", "collapsed" (``stop_on``), "exception", "exit",
    #: "interrupted".
    ended: str
    #: What the diagnosis worked from (a PyTorch run's probe inputs, or the :class:`KerasRun`), and the
    #: evidence it built (None when building it failed): for fix trials and benchmarks run after the fact.
    inputs: ProbeInputs | KerasRun | None = None
    evidence: Evidence | None = None
    #: This process's rank under ``torch.distributed`` (else 0): only rank 0 prints and writes the report.
    rank: int = 0


#: Frames from deadpan's instrumentation (wrappers around torch calls, in the capture package) and from this
#: runner's package are not the user's and are hidden.
_DEADPAN_DIRS = tuple(str(Path(f).resolve().parent) + os.sep for f in (instrument.__file__, __file__))


def _user_frames(te: traceback.TracebackException, script: Path | None) -> None:
    """Cut ``te`` (and its causes) to what ``python script.py`` would show."""
    frames = list(te.stack)
    if script is not None:
        for i, fr in enumerate(frames):
            if fr.filename == str(script):
                frames = frames[i:]
                break
    else:  # a training function: drop the runner's own frames at the top
        while frames and frames[0].filename == __file__:
            frames.pop(0)
    te.stack = traceback.StackSummary.from_list(
        [f for f in frames if not f.filename.startswith(_DEADPAN_DIRS)]
    )
    for nested in (te.__cause__, te.__context__):
        if nested is not None:
            _user_frames(nested, None)


def _print_user_traceback(exc: BaseException, script: Path | None) -> None:
    """Print the traceback as ``python script.py`` would: the script's frames, none of deadpan's."""
    te = traceback.TracebackException.from_exception(exc)
    _user_frames(te, script)
    sys.stderr.write("".join(te.format()))
    sys.stderr.flush()


def resolve_script(script: str | Path) -> Path | None:
    """The script's file: a path, or the name of a Python command on PATH (``torchrun``, a console script)."""
    path = Path(script)
    if path.is_file():
        return path.resolve()
    if os.sep in str(script):
        return None
    # PATH, then the folder of this Python's own commands (a virtual environment that is not activated).
    search = os.pathsep.join([os.environ.get("PATH", ""), str(Path(sys.executable).parent)])
    found = shutil.which(str(script), path=search)
    if found is None:
        return None
    try:
        with open(found, "rb") as f:
            first = f.readline(200)
    except OSError:
        return None
    return Path(found) if first.startswith(b"#!") and b"python" in first else None


def run_script(
    script: str | Path,
    args: list[str],
    max_steps: int | None = None,
    verify: VerifyOptions | None = None,
    stop_on: StopOn = None,
) -> RunResult:
    """Run ``script`` as ``__main__`` with ``args`` as its ``sys.argv[1:]``, then diagnose (and, with
    ``verify``, run the trials on copies it asks for: the intervention search, the fix trials)."""
    path = resolve_script(script)
    if path is None:
        raise FileNotFoundError(f"no such script: {script}")
    old_argv, old_path = sys.argv[:], sys.path[:]
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(path.parent))
    try:
        return run_callable(
            lambda: runpy.run_path(str(path), run_name="__main__"), max_steps, path, verify, stop_on
        )
    finally:
        sys.argv, sys.path[:] = old_argv, old_path


def _framework_result(
    session: TorchSession, status: int, ended: str, verify: VerifyOptions | None
) -> RunResult:
    """The result of a run whose training went through a Lightning or Hugging Face trainer."""
    if session.report is None:  # the trainer raised before its end hook (or --max-steps stopped it there)
        session.end()
    report = session.report
    assert report is not None
    if session.stop_requested is not None and ended == "finished":
        ended = session.stop_requested
    if verify is not None and session.inputs is not None:
        report = proven(report, session.evidence, session.inputs, verify)
    return RunResult(report, status, ended, session.inputs, session.evidence)


def run_callable(
    train: Callable[[], object],
    max_steps: int | None = None,
    script: Path | None = None,
    verify: VerifyOptions | None = None,
    stop_on: StopOn = None,
    worker: bool = False,
) -> RunResult:
    """Run an unmodified training function with instrumentation attached, then diagnose what it did; with
    ``verify``, prove the top causes' fixes by trials on copies (PyTorch runs). Live collapse alerts are
    warned as training goes; ``stop_on="collapsed"`` ends the training at the first.

    The PyTorch instrumentation starts when torch is loaded (:class:`TorchStart`): a script that never
    imports torch (Keras on TensorFlow) runs, and is diagnosed, without it. Under ``torch.distributed`` each
    rank diagnoses its own shard and rank 0 reports for all (:mod:`deadpan.capture.distributed`); training
    in workers the script starts (``torchrun``, spawned processes) is followed into them
    (:mod:`deadpan.script.workers`). ``worker``: this is such a spawned child, which says nothing when it
    trained nothing."""
    from deadpan.script import keras_patch

    check_stop_on(stop_on)
    collapsed: list[int] = []
    torch_side = TorchStart(max_steps, stop_on, collapsed, lambda: frameworks.main_session() is not None)
    keras_session = keras_patch.start(max_steps, stop_on)
    # Under a Lightning or Hugging Face trainer the framework's callback records; the recorders stand down.
    frameworks = FrameworkRun(stop_on, max_steps, on_begin=torch_side.stop_models)
    frameworks.start()
    launch = Launch(script, max_steps, stop_on)
    launch.start()
    torch_side.start()
    try:
        status, ended = _train(train, script, collapsed)
    finally:
        torch_side.end()
        keras_patch.stop()
        frameworks.stop()
        launch.stop()
        sys.stdout.flush()
    from_workers = launch.take()  # read, and the hand-over folder removed, whichever report is used
    torch_run = torch_side.run  # None: the script never imported torch
    torch_steps = torch_run.steps if torch_run is not None else 0
    session = frameworks.main_session()
    if session is not None and session.steps() >= torch_steps:
        return _framework_result(session, status, ended, verify)
    main_keras = keras_session.main_run()
    if main_keras is not None and main_keras.steps >= torch_steps:
        return _keras_result(keras_session, main_keras, status, ended, stop_on, verify)
    # A framework's callback exchanges its own report; otherwise the process group may still be up at the
    # end (the script did not destroy it).
    distributed = torch_run.distributed(finish=session is None) if torch_run is not None else None
    if distributed is not None:
        pi, ev, report, rank = distributed
        if verify is not None and verify.verify:
            report = _not_verified(report, "fix trials do not run under distributed training yet")
        _publish(report, rank)
        return RunResult(report, status, ended, pi, ev, rank)
    observed_training = torch_run is not None and torch_run.trained()
    if from_workers is not None and not observed_training:
        report = _with_notes(from_workers, launch.notes)
        if verify is not None and verify.verify:
            report = _not_verified(report, "fix trials do not run for training in worker processes yet")
        return RunResult(report, status, ended)
    if worker and not observed_training:  # a spawned child that trained nothing (a data-loading worker)
        return RunResult(_NOTHING, status, ended)
    return _plain_result(torch_run, launch.notes, status, ended, verify)


class TorchStart:
    """The run's PyTorch side (:class:`~deadpan.script.torch_run.TorchRun`), started when torch is loaded: at
    once when it already is, else the moment the script imports it (a Keras script on the torch backend
    imports it through Keras), by an import hook that is removed when the training ends, so that deadpan's
    own work afterwards never starts it. A script that never imports torch never loads it."""

    def __init__(
        self, max_steps: int | None, stop_on: StopOn, collapsed: list[int], framework: Callable[[], bool]
    ) -> None:
        self._args = (max_steps, stop_on, collapsed, framework)
        #: The PyTorch side once started; None while (and when) the script has not imported torch.
        self.run: TorchRun | None = None
        self._hook = AfterImport(("torch",), lambda name, module: self._start())

    def start(self) -> None:
        if sys.modules.get("torch") is not None:
            self._start()
        else:
            self._hook.install()

    def _start(self) -> None:
        from deadpan.script.torch_run import TorchRun

        try:
            self.run = TorchRun(*self._args)
            self.run.start()
        except Exception as exc:  # the script runs on; its PyTorch training is then not diagnosed
            self.run = None
            sys.stderr.write(f"deadpan: could not attach to torch ({type(exc).__name__}: {exc}).\n")

    def stop_models(self) -> None:
        """Stop recording (the training ended, or a framework's callback records it)."""
        if self.run is not None:
            self.run.stop_models()

    def end(self) -> None:
        """The training ended: no more waiting for torch, no more recording."""
        self._hook.remove()
        self.stop_models()


def _train(train: Callable[[], object], script: Path | None, collapsed: list[int]) -> tuple[int, str]:
    """Run the training to its end, whatever it is: the script's exit status and how it ended (see
    :attr:`RunResult.ended`); an exception's traceback is printed as ``python`` would print it."""
    status, ended = 0, "finished"
    try:
        train()
    except instrument.StopTraining:
        ended = "collapsed" if collapsed else "max-steps"
    except SystemExit as e:
        ended = "exit"
        code = e.code
        if code is None:
            status = 0
        elif isinstance(code, int):
            status = code
        else:
            sys.stderr.write(f"{code}\n")
            status = 1
    except KeyboardInterrupt:
        ended, status = "interrupted", 130
        sys.stderr.write("KeyboardInterrupt: training interrupted; diagnosing what was captured.\n")
    except BaseException as exc:
        ended, status = "exception", 1
        _print_user_traceback(exc, script)
    return status, ended


def _keras_result(
    session: KerasRuns,
    main: KerasRun,
    status: int,
    ended: str,
    stop_on: StopOn,
    verify: VerifyOptions | None,
) -> RunResult:
    """The result of a run whose training was the Keras model ``main``, the one of ``session``'s models that
    trained most (the others are listed in the report)."""
    from deadpan.keras.build import evidence_and_report_for_run

    kev, report = evidence_and_report_for_run(main, source="run")
    report = with_live(report, main.live)
    if main.live is not None and main.live.alert is not None and stop_on == "collapsed":
        ended = "collapsed"
    if verify is not None:
        report = proven(report, kev, main, verify)
    report = _with_other_models(report, main, session.others())
    return RunResult(report, status, ended, main, kev)


def _plain_result(
    torch_run: TorchRun | None, notes: list[str], status: int, ended: str, verify: VerifyOptions | None
) -> RunResult:
    """The result of a plain PyTorch loop, diagnosed from what ``torch_run`` recorded (and, for a script that
    trained several models, one report per model, led by the worst); ``notes``: what went wrong following
    the training into worker processes. Without a PyTorch side (the script never imported torch), the
    report a loop that created no model gets."""
    if torch_run is None:
        ev, report = evidence_and_report_of(lambda: Evidence(source="run", missing=(NO_MODEL,)))
        pi: ProbeInputs | None = None
        report = with_live(report, LiveMonitor())
    else:
        pi, ev, report = torch_run.diagnose()
    report = _with_notes(report, notes)
    if verify is not None:
        report = proven(report, ev, pi, verify)
    if torch_run is not None:
        torch_run.forget_data()
    if in_worker():
        _publish(report, None)
    return RunResult(report, status, ended, pi, ev)


#: A spawned child's result when it trained nothing: the parent reports, this child says nothing.
_NOTHING = Report(verdict="inconclusive", summary="This worker trained nothing.", collapse=Collapse())


def _publish(report: Report, rank: int | None) -> None:
    try:
        publish(report, rank)
    except Exception as exc:  # the parent then says it got no report; the worker's status stands
        sys.stderr.write(f"deadpan: could not leave the report for the parent: {type(exc).__name__}: {exc}\n")


def _with_notes(report: Report, notes: list[str]) -> Report:
    return replace(report, internal_errors=(*report.internal_errors, *notes)) if notes else report


def _not_verified(report: Report, why: str) -> Report:
    return replace(report, skipped=(*report.skipped, Skipped("verify", "fix trials (--verify)", why)))
