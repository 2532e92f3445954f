"""The control: the user's training as deadpan captured it, rebuilt as a short trial.

It starts from deadpan's copy of the model before training, trains on the captured batches with the user's
loss and optimizer (class, hyper-parameters, learning rate, the parameters it held), and reproduces the loop
bugs the diagnosis found (a missing ``zero_grad``, a detached loss, no optimizer step, the same batch at every
step, eval mode), so that a fix is judged against the training the user really ran, for the same budget.
The budget and the loop bugs are read off the evidence, framework-free (the Keras control,
:mod:`deadpan.fixes.keras_trial`, shares them); torch is imported only to rebuild a PyTorch run's control.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deadpan.capture.samples import SAMPLE_ROWS
from deadpan.evidence import DataStats, Evidence
from deadpan.findings import Finding
from deadpan.fixes.base import Batch, LoopSpec, NotApplicable, OptimizerSpec, TrialSetup
from deadpan.probes.arrays import is_tensor

if TYPE_CHECKING:
    import torch

    from deadpan.capture.probe_inputs import ProbeInputs

#: Trial budget in optimizer steps: the user's own step count, within these bounds. Fewer than 50 steps
#: shows little; more than 300 makes a trial cost more than the diagnosis it verifies.
MIN_STEPS, MAX_STEPS = 50, 300
#: Share of the captured training rows held out for judging when no held-out batches were captured.
HELDOUT_SHARE = 0.2
#: The learning rate a trial uses when the user's optimizer was not seen (Adam's customary default).
DEFAULT_LR = 1e-3

#: Finding names whose loop bug the control reproduces, and the loop flag each turns off.
LOOP_BUGS = {
    "zero-grad-missing": "zero_grad",
    "loss-detached": "backward",
    "no-optimizer-step": "step",
    "same-batch-every-step": "fresh_batches",
    "trained-in-eval-mode": "train_mode",
}


#: A loop behaviour seen on at least this share of the steps is reproduced by the control.
MOST_STEPS = 0.5


def observed_loop_bugs(ev: Evidence) -> set[str]:
    """The loop flags the capture saw broken on most steps, whatever the checks concluded (a check can be
    switched off, or sure of something else): the control reproduces the training as it ran."""
    tr, data = ev.training, ev.data
    if tr is None:
        return set()
    most = MOST_STEPS * max(tr.steps, 1)
    bugs = set()
    if tr.steps >= 2 and tr.steps_without_zero_grad >= most:
        bugs.add("zero_grad")
    if tr.backward_on_detached > 0 and tr.backward_on_detached >= MOST_STEPS * max(tr.backward_calls, 1):
        bugs.add("backward")
    if tr.steps == 0 and tr.backward_calls > 0:
        bugs.add("step")
    mode_dependent = ev.model is not None and ev.model.has_mode_dependent_layers
    if tr.steps >= 2 and tr.steps_in_eval_mode >= most and mode_dependent:
        bugs.add("train_mode")
    if data is not None and _one_batch_of_many(data):
        bugs.add("fresh_batches")
    return bugs


def _one_batch_of_many(data: DataStats) -> bool:
    """Every fingerprinted step trained on one batch, drawn from a data set larger than a batch."""
    larger = (
        data.dataset_size is not None and bool(data.batch_size) and data.dataset_size > (data.batch_size or 0)
    )
    return data.distinct_batches == 1 and data.batches_fingerprinted >= 3 and larger


#: Budget when deadpan saw no training (``diagnose()``).
UNSEEN_STEPS = 100


def budget(ev: Evidence) -> int:
    if ev.training is None or ev.training.steps <= 0:
        return UNSEEN_STEPS
    return int(min(MAX_STEPS, max(MIN_STEPS, ev.training.steps)))


def optimizer_spec(
    opt: torch.optim.Optimizer | None, left_out: tuple[str, ...], ran_at: float | None = None
) -> OptimizerSpec:
    """The user's optimizer as a recipe; its learning rate ``ran_at`` (the rate its steps ran at, read by the
    capture) when known: a schedule that decayed to zero leaves a last rate that would train nothing."""
    import torch

    if opt is None:
        return OptimizerSpec(torch.optim.Adam, {}, DEFAULT_LR, left_out)
    group = opt.param_groups[0]
    hyper = {k: v for k, v in group.items() if k in opt.defaults and k not in ("params", "lr")}
    lr = group.get("lr", DEFAULT_LR) if ran_at is None else ran_at
    lr = float(lr.item()) if isinstance(lr, torch.Tensor) else float(lr)
    return OptimizerSpec(type(opt), hyper, lr, left_out)


def _rows(batches: list[Batch]) -> int:
    return sum(len(b[2]) for b in batches)


def split_heldout(train: list[Batch], heldout: list[Batch]) -> tuple[list[Batch], list[Batch]]:
    """The captured held-out batches if any; else the last batches (about a fifth of the rows) of the
    captured training batches. With one batch only, its last rows are held out."""
    if heldout:
        return train, heldout
    if len(train) >= 2:
        keep = max(1, round(len(train) * (1 - HELDOUT_SHARE)))
        return train[:keep], train[keep:]
    if not train:
        return [], []
    args, kwargs, target = train[0]
    n = len(target)
    cut = int(n * (1 - HELDOUT_SHARE))
    if cut < 2 or n - cut < 2 or kwargs or not all(is_tensor(a) for a in args):
        return train, train
    first: Batch = (tuple(a[:cut] for a in args), {}, target[:cut])
    rest: Batch = (tuple(a[cut:] for a in args), {}, target[cut:])
    return [first], [rest]


def control_setup(pi: ProbeInputs, ev: Evidence, findings: tuple[Finding, ...], seed: int = 0) -> TrialSetup:
    """The control trial of this run; raise :class:`NotApplicable` when it cannot be rebuilt."""
    from deadpan.capture.losses import make_adapter, make_loss_fn, task_of
    from deadpan.probes.forward import run_model

    model, origin = pi.initial, "the model before training"
    if model is None and pi.source == "diagnose" and pi.final is not None:
        # diagnose() never saw the model before training: the trials continue from the model as given.
        model, origin = pi.final, "the model as given to diagnose() (deadpan saw no earlier state)"
    if model is None:
        why = next(
            (e.removeprefix("copy: ").split(";")[0] for e in pi.errors if e.startswith("copy: ")), None
        )
        raise NotApplicable(
            "deadpan holds no copy of the model from before training" + (f": {why}" if why else "")
        )
    if not pi.train:
        raise NotApplicable("no training batches were captured")
    names = {f.name for f in findings}
    bugs = {flag for name, flag in LOOP_BUGS.items() if name in names} | observed_loop_bugs(ev)
    loop = LoopSpec(**{flag: False for flag in bugs})
    train, heldout = split_heldout(list(pi.train), list(pi.heldout))
    data = "the captured batches"
    if not loop.fresh_batches:
        drawn = _fresh_from_loader(pi, train[0], seed)
        if drawn is not None:
            # The control still trains on the user's one batch; a corrected loop cycles through the drawn
            # ones, and both are judged on drawn rows rather than on copies of that batch.
            train, heldout = [train[0], *drawn[0]], drawn[1]
            data = "the user's batch, and batches drawn from the DataLoader's dataset"
    if _rows(heldout) < 2:
        raise NotApplicable("too few captured rows to hold some out for judging")
    adapt = make_adapter(pi.loss if pi.adapt_outputs else None)
    out, target = run_model(model, train[:1], adapt)
    task = ev.task or task_of(pi.loss, out, target)
    loss_fn = pi.loss_fn or make_loss_fn(pi.loss, task)
    left_out = ev.model.unoptimized_names if ev.model is not None else ()
    setup = TrialSetup(
        model=model,
        train=tuple(train),
        heldout=tuple(heldout),
        loss_fn=loss_fn,
        adapt=adapt,
        optimizer=optimizer_spec(pi.optimizer, tuple(left_out), _ran_at(ev)),
        loop=loop,
        steps=budget(ev),
        task=task,
        seed=seed,
        origin=origin,
        data=data,
    )
    return setup


def _ran_at(ev: Evidence) -> float | None:
    opt = ev.training.optimizer if ev.training is not None else None
    return opt.lr if opt is not None and opt.lr > 0 else None


def _fresh_from_loader(pi: ProbeInputs, like: Batch, seed: int) -> tuple[list[Batch], list[Batch]] | None:
    """Training and held-out batches drawn from the user's DataLoader dataset, for a loop that trained on
    one batch over and over; None when there is no such dataset or its batches cannot be imitated."""
    from deadpan.fixes.batches import drawn_batches

    source = pi.recorder.loader_source if pi.recorder is not None else None
    if source is None:
        return None
    try:
        drawn = drawn_batches(source, like, SAMPLE_ROWS, seed)
    except Exception:
        return None
    if len(drawn) < 2:
        return None
    return split_heldout(drawn, [])  # the same share held out as from captured batches


def describe(setup: TrialSetup) -> dict[str, Any]:
    """The control's recipe, for the report."""
    bugs = [flag for flag in LOOP_BUGS.values() if not getattr(setup.loop, flag)]
    return {
        "starts_from": setup.origin,
        "steps": setup.steps,
        "optimizer": setup.optimizer.cls.__name__ if setup.optimizer.cls else "SGD",
        "lr": setup.optimizer.lr,
        "data": setup.data,
        "train_rows": _rows(list(setup.train)),
        "heldout_rows": _rows(list(setup.heldout)),
        "loop_bugs_reproduced": bugs,
    }
