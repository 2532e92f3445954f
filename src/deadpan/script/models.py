"""Several models in one script (``deadpan run``): each model an optimizer steps is recorded and diagnosed on
its own, and the run's report is the worst of theirs with every model's report listed.

The first optimizer's model is the run's recorder's (:class:`~deadpan.capture.recorder.Recorder` with
``discover``); an optimizer created later over none of its parameters is another model (a GAN's second
network, a second model trained after the first, a student next to its teacher), which gets a recorder of
its own here. Every recorder knows every optimizer, so that each tells its own losses and steps from the
other models' (:meth:`~deadpan.capture.loss_events.LossEvents._output_of_another_model`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch

from deadpan.capture.discovery import owning_module
from deadpan.capture.live import LiveMonitor
from deadpan.capture.probe_inputs import ProbeInputs
from deadpan.capture.recorder import Recorder
from deadpan.capture.report import plain_report
from deadpan.evidence import Evidence
from deadpan.findings import Report
from deadpan.probes.tensors import first_tensor

#: Verdicts from the one a run's report leads with to the last: a model that could not be judged does not
#: hide another model's judgement.
_WORST_FIRST = ("collapsed", "degraded", "healthy", "inconclusive")


class OtherModels:
    """Recorders for the models a script trains besides its first one."""

    def __init__(
        self, main: Recorder, max_steps: int | None, alerter: Callable[[Recorder], None] | None
    ) -> None:
        self.main = main
        self.max_steps = max_steps
        self.alerter = alerter
        self.recorders: list[Recorder] = []
        main.on_other_model = self.add

    def add(self, optimizer: torch.optim.Optimizer) -> None:
        """An optimizer over none of the first model's parameters: a new model, or another optimizer of a
        model already followed."""
        params = {id(p) for g in optimizer.param_groups for p in g["params"]}
        for rec in self.recorders:
            rec.optimizers.append(optimizer)
        if any(rec.model is not None and _holds(rec.model, params) for rec in self.recorders):
            return
        model = owning_module(params)
        if model is None:
            return
        rec = Recorder(model, (optimizer,), max_steps=self.max_steps, live=LiveMonitor())
        rec.optimizers.extend(o for o in self.main.optimizers if o is not optimizer)
        rec.on_alert = self.alerter
        rec.start()
        self.recorders.append(rec)

    def stop_all(self) -> None:
        """Stop the first model's recorder and every other model's."""
        self.main.stop()
        for rec in self.recorders:
            rec.stop()

    def trained(self) -> list[Recorder]:
        return [r for r in self.recorders if r.step > 0 or r.backward_calls > 0]


def _holds(model: torch.nn.Module, params: set[int]) -> bool:
    return any(id(p) in params for p in model.parameters())


def model_name(rec: Recorder, index: int) -> str:
    """``"model 2 (Discriminator)"``: the order the models' optimizers were created in, and the class."""
    return f"model {index + 1} ({type(rec.model).__name__})"


def real_samples(generator: Recorder, recorders: list[Recorder]) -> torch.Tensor | None:
    """The data a generator's discriminator was shown as real: the discriminator's kept training inputs
    whose target is the label the generator's samples are trained to get; None when there is no
    discriminator among ``recorders`` or no such row."""
    label = generator.generator_label
    if generator.unpaired_inputs is None or label is None:
        return None
    for rec in recorders:
        if rec is generator or not rec.judges_other_model:
            continue
        rows = [_rows_labelled(args, target, label) for args, _, target in rec.train_store.batches]
        kept = [r for r in rows if r is not None and len(r)]
        if kept:
            return torch.cat(kept)
    return None


def _rows_labelled(args: Any, target: torch.Tensor, label: float) -> torch.Tensor | None:
    x = first_tensor(args)
    if x is None or x.dim() == 0 or target.dim() == 0 or len(target) != len(x):
        return None
    return x[target.reshape(len(target), -1)[:, 0].float() == label].float()


def per_model_report(reports: list[tuple[str, Report]]) -> tuple[int, Report]:
    """The run's report from each model's (named): the worst verdict's, naming its model, with every model's
    report in ``models``; and the index of the model it leads with."""
    named = [replace(r, metrics={**r.metrics, "model": name}) for name, r in reports]
    lead = min(range(len(named)), key=lambda i: _WORST_FIRST.index(named[i].verdict))
    return lead, replace(named[lead], models=tuple(named))


def reports_per_model(rec: Recorder, others: OtherModels) -> tuple[ProbeInputs, Evidence | None, Report]:
    """The diagnosis of a plain PyTorch loop: of the model ``rec`` recorded, and, for a script that trained
    several, of each (one report per model, led by the worst); the probe inputs and evidence are the lead
    model's."""
    trained = others.trained()
    every = [rec, *trained]
    pi, ev, report = plain_report(rec, real_samples(rec, every))
    if not trained:
        return pi, ev, report
    results = [(pi, ev, report), *(plain_report(r, real_samples(r, every)) for r in trained)]
    names = [model_name(r, i) for i, r in enumerate(every)]
    lead, report = per_model_report([(n, res[2]) for n, res in zip(names, results, strict=True)])
    for r in trained:
        r.loader_source = None  # no reference to the user's dataset past the report
    return results[lead][0], results[lead][1], report
