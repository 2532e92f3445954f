"""The PyTorch side of ``deadpan run``: the recorder that finds the model a plain loop trains (and one for
each other model the script trains), its live alerts, and the report a distributed run makes before its
process group ends.

:mod:`deadpan.script.autolog` starts it when torch is loaded: at once when it already is, else the moment the
script imports it. A script that never imports torch (Keras on TensorFlow) never loads this module, nor torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deadpan.capture import instrument
from deadpan.capture.alerts import warn
from deadpan.capture.distributed import announce, exchange, world
from deadpan.capture.live import LiveMonitor, StopOn
from deadpan.capture.probe_inputs import ProbeInputs
from deadpan.capture.recorder import Recorder
from deadpan.capture.report import plain_report, take_alert
from deadpan.evidence import Evidence
from deadpan.findings import Report
from deadpan.script.models import OtherModels, reports_per_model


class TorchRun:
    """The recorders of one ``deadpan run`` (the first model's, which finds it, and the other models') and the
    distributed end, from the moment torch is loaded to the end of the script's training. ``collapsed``
    collects the steps at which ``stop_on="collapsed"`` stopped the training; ``framework`` says whether a
    Lightning or Hugging Face callback records the run instead (it then exchanges its own report)."""

    def __init__(
        self, max_steps: int | None, stop_on: StopOn, collapsed: list[int], framework: Callable[[], bool]
    ) -> None:
        self.rec = Recorder(discover=True, max_steps=max_steps, live=LiveMonitor())
        self.rec.on_alert = _alerter(stop_on, collapsed)
        self.others = OtherModels(self.rec, max_steps, self.rec.on_alert)
        self.group = DistributedEnd(self.rec, framework)

    def start(self) -> None:
        self.group.start()
        self.rec.start()

    def stop_models(self) -> None:
        """Stop recording every model (the training ended, or a framework's callback records it)."""
        self.others.stop_all()

    @property
    def steps(self) -> int:
        """Optimizer steps of the first model, as its recorder counted them."""
        return self.rec.step

    def trained(self) -> bool:
        """The recorder saw a training step (an optimizer step or a ``backward``)."""
        return self.rec.step > 0 or self.rec.backward_calls > 0

    def distributed(self, finish: bool) -> tuple[ProbeInputs, Evidence | None, Report, int] | None:
        """Under ``torch.distributed``: this rank's inputs, evidence, report (rank 0's merged one) and rank,
        made now when ``finish`` and the process group is still up (the script did not destroy it); None
        outside a process group."""
        if finish:
            self.group.finish()
        self.group.stop()
        return self.group.result

    def diagnose(self) -> tuple[ProbeInputs, Evidence | None, Report]:
        """The diagnosis of a plain PyTorch loop (one report per model the script trained, led by the worst:
        :func:`~deadpan.script.models.reports_per_model`)."""
        return reports_per_model(self.rec, self.others)

    def forget_data(self) -> None:
        """deadpan keeps no reference to the user's dataset past the report (and its trials)."""
        self.rec.loader_source = None


def _alerter(stop_on: StopOn, collapsed: list[int]) -> Callable[[Recorder], None]:
    """What the recorder does on a confirmed live alert: warn (rank 0 only under distributed training) and,
    with ``stop_on="collapsed"``, note the step in ``collapsed`` and stop the training."""

    def alert(r: Recorder) -> None:
        a = take_alert(r, "run")
        if a is None:
            return
        w = world()
        if w is None or w.rank == 0:  # under distributed training only rank 0 speaks
            warn(a)
        # Stopping one rank would leave the others waiting in their next all-reduce.
        if stop_on == "collapsed" and w is None:
            collapsed.append(a.step)
            raise instrument.StopTraining(f"the output collapsed at step {a.step}")

    return alert


class DistributedEnd:
    """Under ``torch.distributed``, the report is made and exchanged while the user's process group is up:
    just before the script's ``destroy_process_group()``, or at the end of the run if it never calls it.
    Installed for the run only; every rank must reach one of the two (as every rank reaches the user's
    own collective calls)."""

    def __init__(self, rec: Recorder, framework: Callable[[], bool] = lambda: False) -> None:
        self.rec = rec
        #: True when a Lightning or Hugging Face callback records the run (it exchanges its own report).
        self.framework = framework
        #: (inputs, evidence, merged report on rank 0 / own report elsewhere, rank) once made.
        self.result: tuple[ProbeInputs, Evidence | None, Report, int] | None = None
        self._undo: Callable[[], None] | None = None

    def start(self) -> None:
        try:
            import torch.distributed as dist

            if not dist.is_available():
                return
            original = dist.destroy_process_group
            original_init = dist.init_process_group
        except Exception:
            return

        def init_process_group(*args: Any, **kwargs: Any) -> Any:
            out = original_init(*args, **kwargs)
            announce()
            return out

        def destroy_process_group(group: Any = None, *args: Any, **kwargs: Any) -> Any:
            if group is None and not self.framework():
                try:
                    self.finish()
                except Exception as exc:  # never in the user's way
                    self.rec.internal_error("distributed report", exc)
            return original(group, *args, **kwargs)

        dist.destroy_process_group = destroy_process_group
        dist.init_process_group = init_process_group

        def undo() -> None:
            dist.destroy_process_group = original
            dist.init_process_group = original_init

        self._undo = undo

    def finish(self) -> None:
        """Diagnose this rank's shard and exchange reports (once); nothing outside a process group."""
        w = world()
        if self.result is not None or w is None:
            return
        self.rec.stop()  # a rank that trained nothing still sends its report: rank 0 waits for it
        pi, ev, report = plain_report(self.rec)
        self.result = (pi, ev, exchange(report, w), w.rank)

    def stop(self) -> None:
        if self._undo is not None:
            self._undo()
            self._undo = None
