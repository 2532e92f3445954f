"""Build :class:`~deadpan.evidence.Evidence` from what a recorder saw, by running the probes on copies.

Everything here happens after the user's training, on deep copies of the model; the global RNG state
(Python, NumPy, torch, CUDA) is saved before and restored after, and no instrumentation event fires.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deadpan.capture import instrument
from deadpan.capture.probes.layers import probe_layers
from deadpan.capture.probes.learnability import learnability
from deadpan.capture.probes.outputs import (
    Adapter,
    Batch,
    input_dependence,
    main_output,
    output_probe,
    run_model,
)
from deadpan.capture.probes.task import infer_task
from deadpan.capture.probes.training import lr_range_test, overfit_one_batch
from deadpan.capture.recorder import LossRecord, Recorder
from deadpan.capture.stream import StreamStats
from deadpan.capture.tensors import as_numpy, first_tensor, tensors_in
from deadpan.evidence import (
    DataStats,
    Evidence,
    LayerInfo,
    LossCall,
    ModelStats,
    OptimizerInfo,
    Probes,
    Task,
    TrainingStats,
    WeightStats,
)

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
ELEMENTWISE = (
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "soft_margin_loss",
)
RELU_FAMILY = ("relu", "leaky_relu", "elu", "gelu", "softplus")


@contextlib.contextmanager
def preserved_rng() -> Iterator[None]:
    """Restore Python, NumPy and torch (CPU and CUDA) random states after the block."""
    py = random.getstate()
    np_state = np.random.get_state()
    cpu = torch.get_rng_state()
    cuda = (
        torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    )
    try:
        yield
    finally:
        random.setstate(py)
        np.random.set_state(np_state)
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)


@dataclass
class ProbeInputs:
    """What the probes work from, whichever way deadpan came in."""

    source: str
    final: nn.Module | None
    initial: nn.Module | None
    train: list[Batch]
    heldout: list[Batch]
    loss: LossRecord | None
    optimizer: torch.optim.Optimizer | None
    recorder: Recorder | None = None
    #: A loss callable given by the user (diagnose); otherwise rebuilt from ``loss``.
    loss_fn: LossFn | None = None
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Skip the probes that train copies (overfit, LR range), e.g. for very large models.
    train_probes: bool = True
    #: Reshape model outputs to the loss input's shape (False when ``loss_fn`` takes the raw output).
    adapt_outputs: bool = True
    #: ``diagnose``: one pass over every row of the data (``train`` is its uniform sample).
    stream: StreamStats | None = None


def _note(errors: list[str], where: str, exc: BaseException) -> None:
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    errors.append(f"probe {where}: {last}")


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


@dataclass(frozen=True)
class OutputAdapter:
    """Maps the model's raw output to what the loss received (see :func:`make_adapter`). A class rather than
    a closure so that fix trials can send it to worker processes."""

    #: The loss input's shape per row, and whether it is floating point.
    rows: tuple[int, ...]
    floating: bool

    def _fit(self, out: torch.Tensor) -> torch.Tensor:
        shape = tuple(int(s) for s in out.shape[1:])
        if shape == self.rows:
            return out
        if sorted(shape) == sorted(self.rows) and len(set(self.rows)) == len(self.rows):
            return out.permute(0, *(shape.index(r) + 1 for r in self.rows))
        return out.reshape(out.shape[0], *self.rows)

    def __call__(self, raw: Any) -> torch.Tensor:
        kind = [t for t in tensors_in(raw) if t.dim() > 0 and t.is_floating_point() == self.floating]
        for t in kind:
            if tuple(t.shape[1:]) == self.rows:
                return t
        per_row = math.prod(self.rows)
        for t in kind:
            if math.prod(t.shape[1:]) == per_row:
                return self._fit(t)
        return main_output(raw)


def make_adapter(loss: LossRecord | None) -> Adapter:
    """Map the model's raw output to what the loss received.

    Out of a tuple, dict or dataclass output it takes the tensor the loss took: the first whose per-row
    shape and kind (floating or integer) are the loss input's, else the first with as many elements per row,
    else the main tensor (:func:`first_tensor`). Then it undoes the change between model and loss: the same
    dims in another order are permuted back (``out.transpose(1, 2)`` into a per-position cross-entropy),
    another shape of the same size is reshaped (a squeeze or view).
    """
    if loss is None:
        return main_output
    return OutputAdapter(tuple(int(s) for s in loss.input.shape[1:]), loss.input.is_floating_point())


@dataclass(frozen=True)
class RecordedLoss:
    """The user's ``torch.nn.functional`` loss with the keyword arguments of the recorded call."""

    function: str
    kwargs: dict[str, Any]

    def __call__(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return getattr(F, self.function)(out, target, **self.kwargs)


@dataclass(frozen=True)
class TaskLoss:
    """The standard loss of a task, for a run whose loss deadpan did not see: cross-entropy, binary
    cross-entropy on logits, or MSE."""

    kind: str

    def __call__(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.kind == "multiclass":
            return F.cross_entropy(out, target.long())
        if self.kind in ("binary", "multilabel"):
            return F.binary_cross_entropy_with_logits(out.reshape(target.shape), target.float())
        return F.mse_loss(out.reshape(target.shape).float(), target.float())


def make_loss_fn(loss: LossRecord | None, task: Task) -> LossFn:
    """The user's loss function rebuilt from the recorded call, or a standard one for the task."""
    if loss is not None and hasattr(F, loss.function):
        return RecordedLoss(loss.function, dict(loss.kwargs))
    return TaskLoss(task.kind)


def loss_call(loss: LossRecord) -> LossCall:
    inp, tgt = loss.input.float(), loss.target
    finite = inp[torch.isfinite(inp)]
    probs = bool(
        inp.dim() >= 2
        and inp.shape[-1] >= 1
        and bool(torch.isfinite(inp).all())
        and bool((inp >= 0).all())
        and torch.allclose(inp.sum(-1), torch.ones_like(inp.sum(-1)), atol=1e-3)
    )
    # NLLLoss wants log-probabilities per row; log-normalised columns instead is a log-softmax over dim=0.
    rows_log = cols_log = None
    if (
        loss.function == "nll_loss"
        and inp.dim() >= 2
        and inp.shape[0] > 1
        and bool(torch.isfinite(inp).all())
    ):
        nonpos = bool((inp <= 1e-3).all())
        rows_log = nonpos and bool(torch.allclose(inp.logsumexp(1), torch.zeros(()), atol=1e-3))
        cols_log = nonpos and bool(torch.allclose(inp.logsumexp(0), torch.zeros(()), atol=1e-3))
    broadcast = None
    if loss.function in ELEMENTWISE:
        try:
            shape = tuple(torch.broadcast_shapes(loss.input.shape, loss.target.shape))
            if shape != tuple(loss.input.shape) or shape != tuple(loss.target.shape):
                broadcast = shape
        except RuntimeError:
            broadcast = None
    tf = tgt.float()
    tfin = tf[torch.isfinite(tf)]
    weight = loss.kwargs.get("weight")
    pos_weight = loss.kwargs.get("pos_weight")
    return LossCall(
        function=loss.function,
        input_shape=tuple(loss.input.shape),
        target_shape=tuple(loss.target.shape),
        target_is_integer=not tgt.is_floating_point()
        or bool(tfin.numel() and torch.equal(tfin, tfin.round()) and tgt.dim() < inp.dim()),
        input_min=float(finite.min()) if finite.numel() else math.nan,
        input_max=float(finite.max()) if finite.numel() else math.nan,
        input_rows_are_probabilities=probs,
        input_rows_are_log_probabilities=rows_log,
        input_columns_are_log_probabilities=cols_log,
        target_min=float(tfin.min()) if tfin.numel() else math.nan,
        target_max=float(tfin.max()) if tfin.numel() else math.nan,
        broadcast_shape=broadcast,
        has_class_weights=isinstance(weight, torch.Tensor) or isinstance(pos_weight, torch.Tensor),
        calls=loss.calls,
        reduction=str(loss.kwargs.get("reduction", "mean")),
    )


def weight_stats(
    weights: Sequence[tuple[str, str, torch.Tensor | np.ndarray]], layers: Sequence[LayerInfo]
) -> tuple[WeightStats, ...]:
    """Statistics of each weight matrix, given in PyTorch's ``(out, in, ...)`` layout."""
    order = [layer.name for layer in layers]
    out = []
    for name, kind, raw in weights:
        w = as_numpy(raw.detach()) if isinstance(raw, torch.Tensor) else np.asarray(raw)
        w = w.astype(np.float64)
        fan_out = int(w.shape[0])
        fan_in = int(np.prod(w.shape[1:]))
        rows = w.reshape(fan_out, -1)[:2048]
        distinct = len(np.unique(np.round(rows, 7), axis=0)) / max(1, min(fan_out, 2048))
        nxt = None
        if name in order:
            for later in layers[order.index(name) + 1 :]:
                if later.activation is not None:
                    nxt = later.activation
                    break
                if later.n_params:
                    break
        if kind == "Embedding":
            expected = 1.0
            fan_in, fan_out = fan_out, int(w.shape[1])
        elif nxt in RELU_FAMILY:
            expected = math.sqrt(2.0 / fan_in)  # He et al. 2015
        else:
            expected = math.sqrt(2.0 / (fan_in + fan_out))  # Glorot & Bengio 2010
        out.append(
            WeightStats(
                name=name,
                kind=kind,
                shape=tuple(int(s) for s in w.shape),
                std=float(w.std(ddof=1)) if w.size > 1 else 0.0,
                mean_abs=float(np.abs(w).mean()),
                fan_in=fan_in,
                fan_out=fan_out,
                distinct_rows=float(distinct),
                expected_std=expected,
            )
        )
    return tuple(out)


def _weights_of(model: nn.Module) -> list[tuple[str, str, torch.Tensor]]:
    found = []
    for name, mod in model.named_modules():
        w = getattr(mod, "weight", None)
        if isinstance(w, torch.Tensor) and w.dim() >= 2:
            found.append((name, type(mod).__name__, w.detach().to("cpu", copy=True)))
    return found


def stack_inputs(batches: Sequence[Batch]) -> np.ndarray | None:
    xs = [first_tensor(b[0]) for b in batches]
    arrays = [as_numpy(x) for x in xs if x is not None]
    if not arrays:
        return None
    shape = arrays[0].shape[1:]
    same = [a for a in arrays if a.shape[1:] == shape]
    return np.concatenate(same) if same else None


def _stack_targets(batches: Sequence[Batch], x_rows: int | None) -> np.ndarray:
    ys = [as_numpy(b[2]) for b in batches]
    shape = ys[0].shape[1:]
    y = np.concatenate([a for a in ys if a.shape[1:] == shape])
    return y[:x_rows] if x_rows is not None else y


def _optimizer_info(opt: torch.optim.Optimizer | None) -> OptimizerInfo | None:
    if opt is None:
        return None
    g = opt.param_groups[0]
    momentum = g.get("momentum", 0.0)
    betas = g.get("betas")
    if not momentum and isinstance(betas, tuple):
        momentum = betas[0]
    name = type(opt).__name__
    return OptimizerInfo(
        name=name,
        lr=float(g.get("lr", 0.0)),
        weight_decay=float(g.get("weight_decay", 0.0) or 0.0),
        momentum=float(momentum or 0.0),
        decoupled_weight_decay=name == "AdamW" or bool(g.get("decoupled_weight_decay", False)),
    )


def expected_initial_loss(task: Task, function: str | None, y: np.ndarray) -> float | None:
    if function in ("cross_entropy", "cross_entropy_probs") and task.n_classes:
        return math.log(task.n_classes)  # uniform softmax over C classes
    if function in ("binary_cross_entropy", "binary_cross_entropy_with_logits"):
        return math.log(2.0)
    if function == "mse_loss" and y.size:
        return float(np.mean(np.asarray(y, dtype=np.float64) ** 2))  # outputs near 0 at init
    return None


def training_stats(rec: Recorder, opt: torch.optim.Optimizer | None) -> TrainingStats:
    layer_grad = {k: float(np.median(v)) for k, v in rec.layer_grad.items() if v}
    nonfinite = rec.loss_series.first_nonfinite
    checked = max(rec.steps_grad_checked, 1)
    return TrainingStats(
        steps=rec.step,
        backward_calls=rec.backward_calls,
        zero_grad_calls=rec.zero_grad_calls,
        steps_without_zero_grad=rec.steps_without_zero_grad,
        backward_on_detached=rec.backward_on_detached,
        steps_without_grad=round(rec.steps_without_grad * rec.step / checked),
        steps_in_eval_mode=rec.steps_in_eval_mode,
        loss_steps=tuple(rec.loss_series.steps),
        loss=tuple(rec.loss_series.values),
        first_nonfinite_loss_step=nonfinite,
        heldout_loss=tuple(rec.heldout_loss.values),
        optimizer=_optimizer_info(opt),
        update_ratio=tuple(rec.update_ratio.values),
        grad_norm=tuple(rec.grad_norm.values),
        layer_grad_norm=layer_grad,
    )


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
    if not pi.train:
        missing.append("a training batch paired with its targets")
        return Evidence(
            source=pi.source, training=training, missing=tuple(missing), internal_errors=tuple(errors)
        )

    device = _device_of(pi.final)
    train = [_to(b, device) for b in pi.train]
    heldout = [_to(b, device) for b in pi.heldout]
    adapt = make_adapter(pi.loss if pi.adapt_outputs else None)
    model = pi.final
    model.eval()

    timings: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        try:
            return fn()
        except Exception as exc:
            _note(errors, name, exc)
            return None
        finally:
            timings[name] = time.perf_counter() - t0

    out, target = run_model(model, train, adapt)
    task = infer_task(pi.loss.function if pi.loss else None, out, target)
    loss_fn = pi.loss_fn or make_loss_fn(pi.loss, task)

    train_probe = timed("outputs", lambda: output_probe(task, out, target))
    heldout_probe = None
    if heldout:
        heldout_probe = timed(
            "heldout outputs", lambda: output_probe(task, *run_model(model, heldout, adapt))
        )
    dependence = timed("input dependence", lambda: input_dependence(model, train[0], adapt))
    layered = timed("layers", lambda: probe_layers(model, train[0][0], train[0][1]))
    layers, signals = layered if layered is not None else ((), ())

    x = stack_inputs(pi.train)
    y = _stack_targets(pi.train, None if x is None else len(x))
    learn = timed("learnability", lambda: learnability(x, y, task)) if x is not None else None

    overfit = lr_range = None
    initial_loss = pi.recorder.first_loss_value if pi.recorder is not None else None
    if pi.train_probes:
        base = pi.initial if pi.initial is not None else pi.final
        overfit = timed(
            "overfit one batch", lambda: overfit_one_batch(_copy(base), train[0], adapt, loss_fn, task)
        )
        user_lr = float(pi.optimizer.param_groups[0].get("lr", 0.0)) if pi.optimizer is not None else None
        lr_range = timed(
            "lr range test",
            lambda: lr_range_test(_copy(base), train, adapt, loss_fn, pi.optimizer, user_lr),
        )
        if initial_loss is None and pi.initial is not None:
            with torch.no_grad():
                init_out = adapt(pi.initial.eval()(*train[0][0], **train[0][1]))
                initial_loss = float(loss_fn(init_out, train[0][2]))

    initial_w = (
        rec.initial_weights if rec is not None and rec.initial_weights else _weights_of(pi.initial or model)
    )
    unopt_count, unopt_names = rec.unoptimized() if rec is not None else (0, ())
    if rec is None and pi.optimizer is not None:
        stepped = {id(p) for g in pi.optimizer.param_groups for p in g["params"]}
        unopt_names = tuple(
            n for n, p in model.named_parameters() if p.requires_grad and id(p) not in stepped
        )
        unopt_count = sum(p.numel() for n, p in model.named_parameters() if n in unopt_names)
    n_params = sum(p.numel() for p in model.parameters())
    model_stats = ModelStats(
        framework="torch",
        layers=layers,
        n_params=n_params,
        n_trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
        params_not_in_optimizer=unopt_count,
        unoptimized_names=unopt_names,
        initial_weights=weight_stats(initial_w, layers),
        final_weights=weight_stats(_weights_of(model), layers),
        has_mode_dependent_layers=any(
            "Dropout" in type(m).__name__ or "BatchNorm" in type(m).__name__ for m in model.modules()
        ),
    )
    x_held = stack_inputs(pi.heldout) if pi.heldout else None
    data = DataStats(
        x=x if x is not None else np.zeros((0,)),
        y=y,
        x_heldout=x_held,
        y_heldout=_stack_targets(pi.heldout, None if x_held is None else len(x_held)) if pi.heldout else None,
        input_dtype=(rec.input_dtype if rec is not None and rec.input_dtype else _dtype_of(pi.train)),
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
        model=model_stats,
        loss=loss_call(pi.loss) if pi.loss is not None else None,
        training=training,
        probes=probes,
        missing=tuple(missing),
        internal_errors=tuple(errors),
        timings=timings,
    )


def _copy(model: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(model)


def _dtype_of(batches: Sequence[Batch]) -> str:
    x = first_tensor(batches[0][0]) if batches else None
    return str(x.dtype).replace("torch.", "") if x is not None else "unknown"


def nonfinite_step(a: np.ndarray | None) -> int | None:
    """0 when a floating array of captured data holds NaN or inf (the step is unknown: data seen at once)."""
    if a is None or not np.issubdtype(a.dtype, np.floating):
        return None
    return None if np.isfinite(a).all() else 0
