"""Assemble :class:`~deadpan.evidence.Evidence` for a Keras model from a :class:`KerasRun`.

The same evidence the PyTorch side builds, in the same vocabulary and by the same framework-free probes
(on NumPy arrays), so every check runs unchanged. Like the PyTorch builder it runs after training, on copies
for anything that trains, with the global RNG state (Python, NumPy, and torch's when loaded) saved and
restored, and it turns every probe failure into an internal error. It never imports torch: a Keras run on
TensorFlow does not pay for it.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from deadpan.capture.loss_record import LossRecord, expected_initial_loss, loss_call
from deadpan.capture.stats import nonfinite_step, weight_stats
from deadpan.evidence import (
    DataStats,
    Evidence,
    LayerInfo,
    LossCall,
    LRRangeProbe,
    ModelStats,
    OutputProbe,
    OverfitProbe,
    Probes,
    Task,
    TrainingStats,
)
from deadpan.findings import Report
from deadpan.keras import describe, probes
from deadpan.keras.data import Sample, map_parts, model_feed
from deadpan.keras.describe import KerasLoss
from deadpan.keras.run import KerasRun
from deadpan.probes.learnability import learnability
from deadpan.probes.outputs import CollapseState, collapse_state, output_probe
from deadpan.probes.rng import preserved_rng
from deadpan.probes.task import infer_task
from deadpan.probes.timer import ProbeTimer


def loss_target(loss: KerasLoss | None, out: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The targets as Keras' loss sees them: class ids squeezed to one column for the sparse losses, else
    Keras' ``squeeze_or_expand_to_same_rank`` (a rank-1 target gains a trailing axis), before broadcasting."""
    if loss is not None and loss.keras_name in describe.SPARSE_LOSSES:
        if y.ndim == out.ndim and y.shape[-1] == 1:
            return y[..., 0]
        return y
    if y.ndim == out.ndim - 1:
        return y[..., None]
    if y.ndim == out.ndim + 1 and y.shape[-1] == 1:
        return y[..., 0]
    return y


def _model_input(x: np.ndarray) -> np.ndarray:
    """Inputs as the model is fed them: Keras casts float64 arrays to float32."""
    return x.astype(np.float32) if x.dtype == np.float64 else x


def _feed(sample: Sample) -> Any:
    """The sample's inputs as the model is fed them (one array, or several inputs each cast)."""
    return map_parts(_model_input, model_feed(sample))


def _unjudged(model: Any, head: str | None) -> list[str]:
    """The note that a model with several outputs was judged on ``head`` only."""
    if head is None:
        return []
    others = ", ".join(f"`{n}`" for n in model.output_names if n != head)
    return [f"the outputs {others} (deadpan judges one output of several, `{head}`)"]


def build_keras_evidence(run: KerasRun, source: str, train_probes: bool = True) -> Evidence:
    with preserved_rng(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _build(run, source, train_probes)


def _training(run: KerasRun, model: Any) -> TrainingStats | None:
    if not run.steps:
        return None
    run.loss.flush()
    return TrainingStats(
        steps=run.steps,
        # Keras' train step computes the loss, differentiates it and clears gradients itself.
        backward_calls=run.steps,
        zero_grad_calls=run.steps,
        loss_steps=tuple(run.loss.steps),
        loss=tuple(run.loss.values),
        first_nonfinite_loss_step=run.first_nonfinite_loss,
        heldout_loss=tuple(run.heldout_loss.values),
        optimizer=describe.optimizer_info(getattr(model, "optimizer", None) or run.compile_optimizer),
        update_ratio=tuple(run.update_ratio.values),
        explicit_l2=describe.explicit_l2(model),
    )


def _build(run: KerasRun, source: str, train_probes: bool) -> Evidence:
    errors = list(run.internal_errors)
    missing = list(run.notes)
    model = run.model
    training = _training(run, model)
    unprobed = _unprobed(run, source, training, missing, errors)
    if unprobed is not None:
        return unprobed
    sample = run.train
    assert sample is not None
    timed = ProbeTimer(errors)
    head = describe.judged_output(model)
    missing += _unjudged(model, head)
    judged = probes.judged_view(model, head)
    x = _feed(sample)
    out = probes.outputs(judged, x)
    compiled_loss = describe.head_loss(getattr(model, "loss", None) or run.compile_loss, head)
    loss = describe.read_loss(compiled_loss)
    y = loss_target(loss, out, sample.y)
    out32 = np.asarray(out, dtype=np.float32)
    function = loss.function if loss is not None else None
    task = infer_task(function, out32, y)

    train_probe = timed("outputs", lambda: output_probe(task, out32, y))
    held = run.heldout
    heldout_probe, hy = _heldout_probe(judged, held, loss, task, timed) if held is not None else (None, None)
    dependence = timed("input dependence", lambda: probes.input_dependence(judged, x))
    signals = timed("layers", lambda: probes.layer_signals(judged, x)) or ()
    layers = describe.layer_infos(model)
    x64 = sample.x.astype(np.float64) if sample.x.dtype.kind in "fiub" else sample.x
    learn = timed("learnability", lambda: learnability(x64, y, task))
    overfit, lr_range = _training_probes(run, judged, compiled_loss, x, y, task, timed, train_probes)
    model_stats = _model_stats(run, layers)
    data = _data_stats(run, sample, x64, y, hy)
    lc = _loss_call(run, loss, out32, y)
    probes_ = Probes(
        train_output=train_probe,
        heldout_output=heldout_probe,
        input_dependence=dependence,
        layers=signals,
        overfit=overfit,
        lr_range=lr_range,
        learnability=learn,
        initial_loss=run.first_loss,
        expected_initial_loss=expected_initial_loss(task, function, y),
    )
    if loss is not None and not loss.known:
        missing.append(f"a loss deadpan can read (`{loss.keras_name}` is a custom loss)")
    return Evidence(
        source=source,
        task=task,
        data=data,
        model=model_stats,
        loss=lc,
        training=training,
        probes=probes_,
        missing=tuple(m for m in missing if not m.startswith("the training data")),
        internal_errors=tuple(errors),
        timings=timed.timings,
    )


def _unprobed(
    run: KerasRun, source: str, training: TrainingStats | None, missing: list[str], errors: list[str]
) -> Evidence | None:
    """The evidence when there is nothing to probe (a model never built, no training data), saying what is
    missing; None when the probes can run."""
    if not run.model.built:
        missing.append("a built model (it has never been called on data; call fit or build first)")
        return Evidence(
            source=source, training=training, missing=tuple(missing), internal_errors=tuple(errors)
        )
    if run.train is None:
        if not any("training data" in m or "not supported" in m for m in missing):
            missing.append("the training data")
        return Evidence(
            source=source, training=training, missing=tuple(missing), internal_errors=tuple(errors)
        )
    return None


def _heldout_probe(
    model: Any, held: Sample, loss: KerasLoss | None, task: Task, timed: ProbeTimer
) -> tuple[OutputProbe | None, np.ndarray]:
    """The output probe on the held-out sample, and its targets as the loss sees them."""
    hout = probes.outputs(model, _feed(held))
    hy = loss_target(loss, hout, held.y)
    probe = timed("heldout outputs", lambda: output_probe(task, hout.astype(np.float32), hy))
    return probe, hy


def _data_stats(
    run: KerasRun, sample: Sample, x64: np.ndarray, y: np.ndarray, hy: np.ndarray | None
) -> DataStats:
    """The training sample (inputs ``x64``, targets ``y`` as the loss sees them), the held-out one (targets
    ``hy``), and what the run counted of the data."""
    held = run.heldout
    return DataStats(
        x=x64,
        y=y,
        x_heldout=held.x.astype(np.float64) if held is not None and held.x.dtype.kind in "fiub" else None,
        y_heldout=hy,
        input_dtype=str(sample.x.dtype),
        samples_seen=run.steps * (run.batch_size or 32) if run.steps else len(sample.x),
        nonfinite_input_step=nonfinite_step(sample.x),
        nonfinite_target_step=nonfinite_step(np.asarray(sample.y)),
        batch_size=run.batch_size,
        dataset_size=sample.total,
    )


def _training_probes(
    run: KerasRun,
    judged: Any,
    compiled_loss: Any,
    x: Any,
    y: np.ndarray,
    task: Task,
    timed: ProbeTimer,
    train: bool,
) -> tuple[OverfitProbe | None, LRRangeProbe | None]:
    """The probes that train clones of the ``judged`` model (one batch overfitted, the LR range test): when
    ``train``, the model has a loss (compiled, or the one a custom loop called) and can be cloned
    (``clone_model`` rebuilds Sequential and functional models only)."""
    model, values = run.model, run.initial_values
    overfit = lr_range = None
    cloneable = type(judged).__name__ in ("Sequential", "Functional")
    if train and compiled_loss is not None and cloneable:
        overfit = timed(
            "overfit one batch",
            lambda: probes.overfit_one_batch(judged, values, compiled_loss, x, y, task, model),
        )
        opt = getattr(model, "optimizer", None) or run.compile_optimizer
        info = describe.optimizer_info(opt)
        lr_range = timed(
            "lr range test",
            lambda: probes.lr_range_test(
                judged, values, compiled_loss, x, y, opt, info.lr if info else None, model
            ),
        )
    return overfit, lr_range


def _model_stats(run: KerasRun, layers: tuple[LayerInfo, ...]) -> ModelStats:
    """The model's size, layers and kernel statistics, at the start (the run's snapshot) and now."""
    model = run.model
    initial = (
        describe.kernels(model, run.initial_values)
        if run.initial_values is not None
        else describe.kernels(model)
    )
    n_params = int(model.count_params())
    n_trainable = int(sum(int(np.prod(v.shape)) for v in model.trainable_weights))
    return ModelStats(
        framework="keras",
        layers=layers,
        n_params=n_params,
        n_trainable=n_trainable,
        initial_weights=weight_stats(initial, layers),
        final_weights=weight_stats(describe.kernels(model), layers),
        has_mode_dependent_layers=describe.has_dropout_or_norm(model),
        loaded_names=describe.loaded_layers(model, run.loads.variables) if run.loads is not None else None,
        state_loads=run.loads.count if run.loads is not None else 0,
    )


def _loss_call(run: KerasRun, loss: KerasLoss | None, out: np.ndarray, y: np.ndarray) -> LossCall | None:
    """The loss as the checks read it, for a loss deadpan knows (None for a custom one)."""
    if loss is None or not loss.known:
        return None
    record = LossRecord(loss.function, out[:256], y[:256], {}, calls=run.steps)
    return replace(
        loss_call(record),
        has_class_weights=bool(run.class_weight) or run.sample_weighted,
        name=loss.keras_name,
        from_logits=loss.from_logits,
    )


def report_for_run(run: KerasRun, source: str, train_probes: bool = True) -> Report:
    return evidence_and_report_for_run(run, source, train_probes)[1]


def evidence_and_report_for_run(
    run: KerasRun, source: str, train_probes: bool = True
) -> tuple[Evidence | None, Report]:
    """The evidence (None when building it failed) and the report: fix trials need both."""
    from deadpan.pipeline import evidence_and_report_of

    return evidence_and_report_of(lambda: build_keras_evidence(run, source, train_probes), run.step_seconds)


def live_collapse_state(model: Any, sample: Sample) -> CollapseState:
    """How collapsed the model's output on ``sample`` is right now (inference mode, no random draw)."""
    with preserved_rng():
        head = describe.judged_output(model)
        out = probes.outputs(probes.judged_view(model, head), _feed(sample))
        loss = describe.read_loss(getattr(model, "loss", None), head)
        y = loss_target(loss, out, sample.y)
        out32 = out.astype(np.float32)
        task: Task = infer_task(loss.function if loss else None, out32, y)
        return collapse_state(task, out32, y)
