"""What deadpan records while a Keras model trains: one :class:`KerasRun` per model.

The callback (``fit``) and the ``train_on_batch`` wrapper both feed the same run. Rules, as on the PyTorch
side: no random draws, no extra forward passes during training, bounded memory (series merge, a bounded
data sample), and never an exception into the user's training (errors become ``internal_errors``).
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deadpan.capture.samples import SAMPLE_BYTES, SAMPLE_ROWS, SNAPSHOT_MAX_PARAMS, Series, sampled
from deadpan.keras.backend import to_numpy, weights_numpy
from deadpan.keras.data import Parts, Sample


@dataclass
class CheckpointLoads:
    """Weights loaded from a checkpoint while ``deadpan run`` watched (``load_weights``,
    ``keras.models.load_model``): the variables they filled, by identity, and how many loads there were."""

    variables: set[int] = field(default_factory=set)
    count: int = 0

    def record(self, model: Any) -> None:
        self.count += 1
        self.variables.update(id(v) for v in getattr(model, "weights", []))


@dataclass
class KerasRun:
    """Evidence gathered for one model across all its ``fit`` / ``train_on_batch`` calls."""

    model: Any
    steps: int = 0
    fit_calls: int = 0
    train_on_batch_calls: int = 0
    epochs: int = 0
    loss: Series = field(default_factory=Series)
    heldout_loss: Series = field(default_factory=Series)
    update_ratio: Series = field(default_factory=Series)
    first_nonfinite_loss: int | None = None
    first_loss: float | None = None
    #: ``model.get_weights()`` when training started (None when the model is too large to copy).
    initial_values: list[np.ndarray] | None = None
    train: Sample | None = None
    heldout: Sample | None = None
    class_weight: dict[Any, float] | None = None
    sample_weighted: bool = False
    batch_size: int | None = None
    data_kind: str | None = None
    #: Loss and optimizer to probe with when the model was not compiled (``diagnose(loss_fn=...)``).
    compile_loss: Any = None
    compile_optimizer: Any = None
    notes: list[str] = field(default_factory=list)
    #: The output judged when the model has several (its loss is read from ``logs``); None for one output.
    head: str | None = None
    #: The live collapse checks of the callback recording this run (a LiveMonitor), or None.
    live: Any = None
    internal_errors: list[str] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)
    #: The checkpoint loads of the ``deadpan run`` session (shared by its runs); None where nobody watched.
    loads: CheckpointLoads | None = None
    #: Running-mean bookkeeping: Keras' ``logs["loss"]`` is the mean since the epoch began.
    _prev_batch: int = -1
    _prev_mean: float = 0.0
    _before: list[np.ndarray] | None = None
    #: The weights read at the end of the last step, kept only when the next step is sampled too: they
    #: are that step's "before" (fit changes no weight between steps), which halves the reads.
    _after: list[np.ndarray] | None = None
    _t0: float = 0.0
    _initial_penalty: float = 0.0

    def error(self, where: str, exc: BaseException) -> None:
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        entry = f"keras {where}: {last}"
        if entry not in self.internal_errors and len(self.internal_errors) < 50:
            self.internal_errors.append(entry)

    # --- training events ------------------------------------------------------------------------------

    def begin_training(self) -> None:
        if self.initial_values is not None:
            return
        n = int(self.model.count_params()) if self.model.built else 0
        if self.model.built and n <= SNAPSHOT_MAX_PARAMS:
            self.initial_values = weights_numpy(self.model.weights)
        if self.model.built and self.first_loss is None:
            # Keras' reported loss includes the regularisation penalties (kernel_regularizer ...); the
            # initial-loss check compares the data loss with ln C, so the penalty at init is taken out.
            try:
                self._initial_penalty = float(sum(float(_scalar(v) or 0.0) for v in self.model.losses))
            except Exception:
                self._initial_penalty = 0.0

    def begin_epoch(self) -> None:
        self._prev_batch, self._prev_mean = -1, 0.0

    def begin_step(self) -> None:
        self._t0 = time.perf_counter()
        if sampled(self.steps) and self.model.built:
            self._before = (
                self._after if self._after is not None else weights_numpy(self.model.trainable_weights)
            )
        self._after = None

    def end_step(self, batch: int | None, value: Any, running_mean: bool) -> None:
        """Record one step's loss. ``running_mean``: ``value`` is the mean since the epoch began (fit's
        ``logs``), from which this step's own loss is recovered; else it is the step's loss."""
        step = self.steps
        self.steps += 1
        if step == 0 and self.initial_values is None:
            # On TensorFlow a model without an Input is built inside the first train step, after
            # on_train_begin: the weights after that one step are the earliest there are.
            self.begin_training()
        loss = _scalar(value)
        if loss is not None and running_mean and batch is not None:
            done = batch - self._prev_batch
            this = ((batch + 1) * loss - (self._prev_batch + 1) * self._prev_mean) / max(done, 1)
            self._prev_batch, self._prev_mean = batch, loss
            loss = this if math.isfinite(this) else loss
        if loss is not None:
            if self.first_loss is None:
                self.first_loss = loss - self._initial_penalty
            if not math.isfinite(loss) and self.first_nonfinite_loss is None:
                self.first_nonfinite_loss = step
            self.loss.add(step, loss)  # every step, as on the PyTorch side; the series merges when full
        if self._before is not None:
            after = weights_numpy(self.model.trainable_weights)
            # Over weight matrices only: Keras starts biases at zero, so their relative change is huge
            # for any learning rate and would swamp the median (the rule of thumb is about weights).
            pairs = [(a, b) for a, b in zip(after, self._before, strict=False) if b.ndim >= 2]
            ratios = sorted(
                float(np.linalg.norm(a - b) / norm)
                for a, b in pairs or zip(after, self._before, strict=False)
                if (norm := float(np.linalg.norm(b))) > 0
            )
            if ratios:
                self.update_ratio.add(step, ratios[len(ratios) // 2])
            self._before = None
            if sampled(self.steps):
                self._after = after
            self.step_seconds.append(time.perf_counter() - self._t0)

    def end_epoch(self, logs: dict[str, Any] | None) -> None:
        self.epochs += 1
        val = _scalar(head_log(logs, "val_loss", self.head))
        if val is not None:
            self.heldout_loss.add(self.steps, val)

    # --- data ------------------------------------------------------------------------------------------

    def offer_train(self, sample: Sample | None) -> None:
        self.train = _merge(self.train, sample)

    def offer_heldout(self, sample: Sample | None) -> None:
        self.heldout = _merge(self.heldout, sample)


def head_log(logs: dict[str, Any] | None, key: str, head: str | None) -> Any:
    """``logs[key]`` ("loss", "val_loss") for the judged output ``head``: Keras logs a model with several
    outputs' total loss as ``loss`` and each output's own as ``<head>_loss``; the checks compare the loss
    with the judged output's (its expected initial loss), so the output's own is read when logged."""
    logs = logs or {}
    if head is not None:
        own = key.replace("loss", f"{head}_loss")
        if own in logs:
            return logs[own]
    return logs.get(key)


def _scalar(value: Any) -> float | None:
    if value is None:
        return None
    try:
        a = to_numpy(value) if not isinstance(value, int | float) else np.asarray(value)
        return float(np.asarray(a, dtype=np.float64).reshape(-1)[0])
    except Exception:
        return None


def _merge(old: Sample | None, new: Sample | None) -> Sample | None:
    """Keep the first sample, topped up with rows of later ones while within the row and byte budget."""
    if new is None:
        return old
    if old is None:
        return new
    if old.x.shape[1:] != new.x.shape[1:] or old.y.shape[1:] != new.y.shape[1:]:
        return old
    if (old.parts is None) != (new.parts is None):
        return old
    room = SAMPLE_ROWS - len(old.x)
    if room <= 0 or old.x.nbytes > SAMPLE_BYTES:
        return old
    w = None
    if old.weights is not None and new.weights is not None:
        w = np.concatenate([old.weights, new.weights[:room]])
    parts = _merge_parts(old.parts, new.parts, room)
    if old.parts is not None and parts is None:
        return old
    return Sample(
        np.concatenate([old.x, new.x[:room]]), np.concatenate([old.y, new.y[:room]]), w, parts=parts
    )


def _merge_parts(old: Parts | None, new: Parts | None, room: int) -> Parts | None:
    """Several inputs topped up as :func:`_merge` tops up their feature matrix (same rows)."""
    if old is None or new is None:
        return None
    if isinstance(old, dict) and isinstance(new, dict):
        return {k: np.concatenate([v, new[k][:room]]) for k, v in old.items()}
    if isinstance(old, list) and isinstance(new, list):
        return [np.concatenate([a, b[:room]]) for a, b in zip(old, new, strict=True)]
    return None
