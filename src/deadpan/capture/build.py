"""Build :class:`~deadpan.evidence.Evidence` from what a recorder saw, by running the probes on copies.

Everything here happens after the user's training, on deep copies of the model; the global RNG state
(Python, NumPy, torch, CUDA) is saved before and restored after, and no instrumentation event fires. The
statistics read off the captured arrays without running the model are :mod:`deadpan.capture.stats`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from torch import nn

from deadpan.capture import instrument
from deadpan.capture.captured import dtype_of, stack_inputs, stack_targets, weights_of
from deadpan.capture.loss_record import expected_initial_loss, loss_call
from deadpan.capture.losses import LossFn, make_adapter, make_loss_fn, task_of
from deadpan.capture.probe_inputs import ProbeInputs
from deadpan.capture.recorder import Recorder
from deadpan.capture.stats import nonfinite_step, weight_stats
from deadpan.capture.training_stats import lr_ran_at, training_stats
from deadpan.evidence import (
    DataStats,
    Evidence,
    InputDependence,
    LayerInfo,
    LayerSignal,
    LearnabilityProbe,
    LRRangeProbe,
    ModelStats,
    OutputProbe,
    OverfitProbe,
    Probes,
    Task,
    TrainingStats,
)
from deadpan.probes.arrays import to_numpy
from deadpan.probes.forward import Adapter, Batch, input_dependence, run_model
from deadpan.probes.layers import probe_layers
from deadpan.probes.learnability import learnability
from deadpan.probes.outputs import output_probe
from deadpan.probes.positions import position_learnability
from deadpan.probes.rng import preserved_rng
from deadpan.probes.timer import ProbeTimer
from deadpan.probes.training import lr_range_test, overfit_one_batch


def _device_of(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def _to(obj: Any, device: torch.device) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return tuple(_to(v, device) for v in obj)
    return obj


def _ran_at(pi: ProbeInputs) -> float | None:
    """The learning rate the user's steps ran at: the median of those sampled, else the optimizer's own."""
    if pi.optimizer is None:
        return None
    return lr_ran_at(pi.optimizer, pi.recorder.lr_seen.values if pi.recorder is not None else [])


def _learnability(x: np.ndarray, y: np.ndarray, task: Task) -> LearnabilityProbe | None:
    """Simple models on the inputs: per row, or per position for classes per position (next tokens)."""
    if task.positions > 1:
        return position_learnability(x, y, task)
    return learnability(x, y, task)


def build_evidence(pi: ProbeInputs) -> Evidence:
    """Run every probe that applies and assemble the evidence; probe failures become internal errors."""
    with preserved_rng(), instrument.suspended(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the user's own warnings (broadcasting ...) were already shown once
        return _build(pi)


def _build(pi: ProbeInputs) -> Evidence:
    rec = pi.recorder
    # What went wrong while recording comes first, whatever the report can say: a failure there is often
    # why there is nothing to diagnose.
    errors = (list(rec.internal_errors) if rec is not None else []) + list(pi.errors)
    missing = list(pi.missing)
    training = (
        training_stats(rec, pi.optimizer) if rec is not None and rec.step + rec.backward_calls else None
    )
    unprobed = _unprobed(pi, training, missing, errors)
    if unprobed is not None:
        return unprobed
    if not pi.train:
        from deadpan.capture.targetless import targetless_evidence  # it imports this module

        return targetless_evidence(pi, training, missing, errors)
    assert pi.final is not None
    device = _device_of(pi.final)
    train = [_to(b, device) for b in pi.train]
    heldout = [_to(b, device) for b in pi.heldout]
    adapt = make_adapter(pi.loss if pi.adapt_outputs else None)
    model = pi.final
    model.eval()
    timed = ProbeTimer(errors)

    out, target = run_model(model, train, adapt)
    task = task_of(pi.loss, out, target)
    loss_fn = pi.loss_fn or make_loss_fn(pi.loss, task)

    train_probe = timed("outputs", lambda: output_probe(task, to_numpy(out), to_numpy(target)))
    heldout_probe, dependence, layers, signals = _model_probes(model, train, heldout, adapt, task, timed)
    x = stack_inputs(pi.train)
    y = stack_targets(pi.train, None if x is None else len(x))
    learn = timed("learnability", lambda: _learnability(x, y, task)) if x is not None else None
    overfit, lr_range, initial_loss = _training_probes(pi, train, adapt, loss_fn, task, timed)
    stats = model_stats(pi, model, layers)
    data = _data_stats(pi, x, y)
    probes = Probes(
        train_output=train_probe,
        heldout_output=heldout_probe,
        input_dependence=dependence,
        layers=signals,
        overfit=overfit,
        lr_range=lr_range,
        learnability=learn,
        initial_loss=initial_loss,
        expected_initial_loss=expected_initial_loss(task, pi.loss.function if pi.loss else None, y),
    )
    return Evidence(
        source=pi.source,
        task=task,
        data=data,
        model=stats,
        loss=loss_call(pi.loss) if pi.loss is not None else None,
        training=training,
        probes=probes,
        missing=tuple(missing),
        internal_errors=tuple(errors),
        timings=timed.timings,
    )


def _model_probes(
    model: nn.Module, train: list[Batch], heldout: list[Batch], adapt: Adapter, task: Task, timed: ProbeTimer
) -> tuple[OutputProbe | None, InputDependence | None, tuple[LayerInfo, ...], tuple[LayerSignal, ...]]:
    """The probes that run the trained model beyond the training batches' outputs: its outputs on the
    held-out batches, how much they depend on the input, and the layers (each one's kind and signal)."""
    heldout_probe = None
    if heldout:
        heldout_probe = timed("heldout outputs", lambda: _output_probe(model, heldout, adapt, task))
    dependence = timed("input dependence", lambda: input_dependence(model, train[0], adapt))
    layered = timed("layers", lambda: probe_layers(model, train[0][0], train[0][1]))
    layers, signals = layered if layered is not None else ((), ())
    return heldout_probe, dependence, layers, signals


def _output_probe(model: nn.Module, batches: list[Batch], adapt: Adapter, task: Task) -> OutputProbe:
    """The output probe of ``model`` on ``batches``."""
    out, target = run_model(model, batches, adapt)
    return output_probe(task, to_numpy(out), to_numpy(target))


def _unprobed(
    pi: ProbeInputs, training: TrainingStats | None, missing: list[str], errors: list[str]
) -> Evidence | None:
    """The evidence when there is nothing to probe (no model, a model without weights, no training batch),
    saying what is missing; None when the probes can run."""
    if pi.final is None:
        return Evidence(
            source=pi.source,
            training=training,
            missing=tuple(missing or ["a model"]),
            internal_errors=tuple(errors),
        )
    if any(p.is_meta for p in pi.final.parameters()):
        missing.append(
            "not supported yet: a model on the meta device (it has no weights to run; load them first)"
        )
        return Evidence(
            source=pi.source, training=training, missing=tuple(missing), internal_errors=tuple(errors)
        )
    rec = pi.recorder
    if rec is not None and rec.judges_other_model:
        missing.append(
            "not supported yet: judging a discriminator (its inputs include another trained model's "
            "outputs): its accuracy near chance is a GAN's balance, not a collapse; its generator is judged"
        )
    elif not pi.train and rec is not None and rec.unpaired_inputs is not None:
        return None  # a generator or an embedding model: judged by its outputs (capture.targetless)
    elif not pi.train:
        missing.append("a training batch paired with its targets")
    else:
        return None
    return Evidence(
        source=pi.source, training=training, missing=tuple(missing), internal_errors=tuple(errors)
    )


def _training_probes(
    pi: ProbeInputs,
    train: list[Batch],
    adapt: Adapter,
    loss_fn: LossFn,
    task: Task,
    timed: ProbeTimer,
) -> tuple[OverfitProbe | None, LRRangeProbe | None, float | None]:
    """The probes that train copies of the model (one batch overfitted, the LR range test), when
    ``pi.train_probes``, and the loss before training (the recorder's first, else the initial model's)."""
    overfit = lr_range = None
    initial_loss = pi.recorder.first_loss_value if pi.recorder is not None else None
    if pi.train_probes:
        base = pi.initial if pi.initial is not None else pi.final
        assert base is not None
        overfit = timed(
            "overfit one batch", lambda: overfit_one_batch(_copy(base), train[0], adapt, loss_fn, task)
        )
        user_lr = _ran_at(pi)
        lr_range = timed(
            "lr range test",
            lambda: lr_range_test(_copy(base), train, adapt, loss_fn, pi.optimizer, user_lr),
        )
        if initial_loss is None and pi.initial is not None:
            with torch.no_grad():
                init_out = adapt(pi.initial.eval()(*train[0][0], **train[0][1]))
                initial_loss = float(loss_fn(init_out, train[0][2]))
    return overfit, lr_range, initial_loss


def unoptimized_parameters(model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[int, tuple[str, ...]]:
    """How many trainable parameters of ``model`` no group of ``optimizer`` holds, and their names (the
    user's own model: a copy's parameters are never the optimizer's)."""
    stepped = {id(p) for g in optimizer.param_groups for p in g["params"]}
    names = tuple(n for n, p in model.named_parameters() if p.requires_grad and id(p) not in stepped)
    return sum(p.numel() for n, p in model.named_parameters() if n in names), names


def _unoptimized(pi: ProbeInputs) -> tuple[int, tuple[str, ...]]:
    """How many trainable parameters no optimizer steps, and their names: what the recorder saw stepped, or
    what ``diagnose`` read from the user's model and optimizer."""
    if pi.recorder is not None:
        return pi.recorder.unoptimized()
    return pi.unoptimized or (0, ())


def model_stats(pi: ProbeInputs, model: nn.Module, layers: tuple[LayerInfo, ...]) -> ModelStats:
    """The model's size, layers and weight statistics, at the start (the recorder's snapshot, else the
    initial copy) and now."""
    rec = pi.recorder
    initial_w = (
        rec.initial_weights if rec is not None and rec.initial_weights else weights_of(pi.initial or model)
    )
    unopt_count, unopt_names = _unoptimized(pi)
    n_params = sum(p.numel() for p in model.parameters())
    return ModelStats(
        framework="torch",
        layers=layers,
        n_params=n_params,
        n_trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
        params_not_in_optimizer=unopt_count,
        unoptimized_names=unopt_names,
        initial_weights=weight_stats(initial_w, layers),
        final_weights=weight_stats(weights_of(model), layers),
        has_mode_dependent_layers=any(
            "Dropout" in type(m).__name__ or "BatchNorm" in type(m).__name__ for m in model.modules()
        ),
        loaded_names=_loaded(rec),
        state_loads=rec.state_loads if rec is not None else 0,
    )


def _loaded(rec: Recorder | None) -> tuple[str, ...] | None:
    """The names of the watched model's parameters a ``load_state_dict`` filled during the run."""
    if rec is None or rec.model is None:
        return None
    return tuple(n for n, p in rec.model.named_parameters() if id(p) in rec.loaded_params)


def _data_stats(pi: ProbeInputs, x: np.ndarray | None, y: np.ndarray) -> DataStats:
    """The captured data (stacked inputs ``x`` and targets ``y``) and what the recorder counted of it."""
    rec = pi.recorder
    x_held = stack_inputs(pi.heldout) if pi.heldout else None
    return DataStats(
        x=x if x is not None else np.zeros((0,)),
        y=y,
        x_heldout=x_held,
        y_heldout=stack_targets(pi.heldout, None if x_held is None else len(x_held)) if pi.heldout else None,
        input_dtype=(rec.input_dtype if rec is not None and rec.input_dtype else dtype_of(pi.train)),
        samples_seen=rec.samples_seen if rec is not None else pi.stream.rows if pi.stream else len(y),
        nonfinite_input_step=rec.first_nonfinite_input if rec is not None else nonfinite_step(x),
        nonfinite_target_step=rec.first_nonfinite_target if rec is not None else nonfinite_step(y),
        distinct_batches=len(rec.fingerprints) if rec is not None and rec.fingerprinted else None,
        batches_fingerprinted=rec.fingerprinted if rec is not None else 0,
        dataset_size=rec.loader_dataset_size if rec is not None else None,
        batch_size=rec.loader_batch_size if rec is not None else None,
        loader_iters_per_step=(rec.loader_iters / rec.step) if rec is not None and rec.step else None,
        stream=pi.stream,
    )


def _copy(model: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(model)
