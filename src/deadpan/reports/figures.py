"""What the HTML report plots, taken from the evidence once and kept in the report (``metrics["figures"]``).

Keeping the plot data in the report, rather than the evidence, lets a report be drawn again from its JSON
(``Report.from_json(...).to_html(...)``). Every series is bounded (a few hundred points at most), so the JSON
stays small whatever the run's length or the model's depth.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deadpan.evidence import DataStats, Evidence, TrainingStats

#: Points kept per curve, layers per layer plot, features per input-scale plot.
MAX_POINTS = 300
MAX_LAYERS = 80
MAX_FEATURES = 64


def _finite(values: Any) -> list[float | None]:
    return [float(v) if math.isfinite(float(v)) else None for v in values]


def _thin(steps: list[int], values: list[float | None]) -> tuple[list[int], list[float | None]]:
    """At most MAX_POINTS evenly spaced points, the last one kept."""
    if len(values) <= MAX_POINTS:
        return steps, values
    idx = np.unique(np.linspace(0, len(values) - 1, MAX_POINTS).round().astype(int))
    return [steps[i] for i in idx], [values[i] for i in idx]


def figure_data(ev: Evidence) -> dict[str, Any]:
    """The plot data of a run: predictions against targets, signal through depth, training curves, the data.
    Sections without evidence are left out."""
    out: dict[str, Any] = {}
    predictions = _predictions(ev)
    if predictions is not None:
        out["predictions"] = predictions
    probes = ev.probes
    if probes is not None and probes.layers:
        out["layers"] = [
            {
                "name": layer.name,
                "kind": layer.kind,
                "activation": layer.activation,
                "spread": float(layer.spread) if math.isfinite(layer.spread) else None,
                "dead": float(layer.dead_fraction),
                "saturated": float(layer.saturated_fraction),
            }
            for layer in probes.layers[:MAX_LAYERS]
        ]
    tr = ev.training
    if tr is not None and tr.loss:
        out["curves"] = _curves(tr)
        if tr.layer_grad_norm:
            items = list(tr.layer_grad_norm.items())[:MAX_LAYERS]
            out["layer_grad"] = {name: float(v) for name, v in items if math.isfinite(float(v))}
    data = ev.data
    if data is not None and data.x.size and data.x.dtype.kind in "fiub":
        out["inputs"] = _input_scale(ev, data)
        classes = _class_counts(ev, data)
        if classes is not None:
            out["classes"] = classes
    return out


def _predictions(ev: Evidence) -> dict[str, Any] | None:
    """The output probe's predictions against the targets, held-out rows when there are any."""
    probes = ev.probes
    probe = probes.heldout_output if probes is not None and probes.heldout_output else None
    split = "held-out"
    if probe is None and probes is not None:
        probe, split = probes.train_output, "training"
    if probe is None or not (probe.predicted_counts or probe.pairs):
        return None
    return {
        "split": split,
        "kind": ev.task.kind if ev.task is not None else None,
        "predicted": list(probe.predicted_counts),
        "true": list(probe.target_counts),
        "pairs": [list(p) for p in probe.pairs],
    }


def _curves(tr: TrainingStats) -> dict[str, Any]:
    """The training curves: loss over steps, held-out loss, gradient norm and update ratio, and the
    optimizer's learning rate."""
    steps, loss = _thin(list(tr.loss_steps) or list(range(len(tr.loss))), _finite(tr.loss))
    curves: dict[str, Any] = {"steps": steps, "loss": loss}
    if tr.heldout_loss:
        curves["heldout_loss"] = _finite(tr.heldout_loss)[:MAX_POINTS]
    if tr.grad_norm:
        curves["grad_norm"] = _finite(tr.grad_norm)[:MAX_POINTS]
    if tr.update_ratio:
        curves["update_ratio"] = _finite(tr.update_ratio)[:MAX_POINTS]
    if tr.optimizer is not None:
        curves["lr"] = float(tr.optimizer.lr)
        curves["optimizer"] = tr.optimizer.name
    return curves


def _input_scale(ev: Evidence, data: DataStats) -> dict[str, Any]:
    """Mean and spread of each input feature (each channel of images) over the captured rows."""
    x = data.x
    if x.ndim > 2 and ev.model is not None and ev.model.framework == "keras":
        x = np.moveaxis(x, -1, 1)  # Keras images are channels-last
    x = x.reshape(len(x), x.shape[1], -1) if x.ndim > 2 else x.reshape(len(x), -1, 1)
    std = x.astype(np.float64).transpose(1, 0, 2).reshape(x.shape[1], -1).std(1)
    mean = x.astype(np.float64).transpose(1, 0, 2).reshape(x.shape[1], -1).mean(1)
    return {
        "per": "channel" if data.x.ndim > 2 else "feature",
        "std": _finite(std[:MAX_FEATURES]),
        "mean": _finite(mean[:MAX_FEATURES]),
        "n": int(x.shape[1]),
    }


def _class_counts(ev: Evidence, data: DataStats) -> list[int] | None:
    """Rows per class id of the captured targets (the first 100 ids), for a classification task whose
    targets are finite non-negative ids; None otherwise."""
    kind = ev.task.kind if ev.task is not None else None
    y = np.asarray(data.y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    ids = kind in ("multiclass", "binary") and y.ndim == 1 and y.size and np.isfinite(y).all()
    if ids and y.min() >= 0:
        counts = np.bincount(y.astype(np.int64))[:100]
        return [int(c) for c in counts]
    return None
