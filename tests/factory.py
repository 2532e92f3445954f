"""Hand-made evidence for check tests: a healthy baseline, changed one field at a time.

``healthy()`` describes a small MLP classifier that trained well on balanced, learnable data. A broken case
is ``healthy()`` with one part replaced (``dataclasses.replace``), so each test shows exactly what a check
reacts to.
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import nn

from deadpan.evidence import (
    DataStats,
    Evidence,
    InputDependence,
    LayerInfo,
    LayerSignal,
    LearnabilityProbe,
    LossCall,
    LRRangeProbe,
    ModelStats,
    OptimizerInfo,
    OutputProbe,
    OverfitProbe,
    Probes,
    Task,
    TrainingStats,
    WeightStats,
)


def blobs(n: int = 300, classes: int = 3, features: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    centers = rng.normal(0, 3, size=(classes, features))
    x = centers[y] + rng.normal(0, 1, size=(n, features))
    return x, y


def weights(
    name: str, fan_in: int, fan_out: int, std: float | None = None, distinct: float = 1.0
) -> WeightStats:
    expected = (2.0 / fan_in) ** 0.5
    s = expected if std is None else std
    return WeightStats(
        name=name,
        kind="Linear",
        shape=(fan_out, fan_in),
        std=s,
        mean_abs=s * 0.8,
        fan_in=fan_in,
        fan_out=fan_out,
        distinct_rows=distinct,
        expected_std=expected,
    )


def output_probe(**kw: Any) -> OutputProbe:
    base = OutputProbe(
        n_samples=300,
        distinct_predictions=3,
        majority_share=0.34,
        predicted_majority=0,
        output_spread_ratio=0.9,
        score=0.95,
        chance_score=1 / 3,
        n_outputs=3,
    )
    return replace(base, **kw)


def healthy() -> Evidence:
    x, y = blobs()
    steps = tuple(range(0, 200, 10))
    loss = tuple(1.1 * np.exp(-s / 40) + 0.05 for s in steps)
    return Evidence(
        source="test",
        task=Task(kind="multiclass", n_classes=3, n_outputs=3),
        data=DataStats(
            x=x,
            y=y,
            x_heldout=x[:60] + 0.01,
            y_heldout=y[:60],
            samples_seen=6400,
            distinct_batches=200,
            batches_fingerprinted=200,
        ),
        model=ModelStats(
            framework="torch",
            layers=(
                LayerInfo("0", "Linear", units=32, n_params=160),
                LayerInfo("1", "ReLU", activation="relu"),
                LayerInfo("2", "Linear", units=3, n_params=99),
            ),
            n_params=259,
            n_trainable=259,
            initial_weights=(weights("0", 4, 32), weights("2", 32, 3)),
            final_weights=(weights("0", 4, 32), weights("2", 32, 3)),
        ),
        loss=LossCall(
            function="cross_entropy",
            input_shape=(32, 3),
            target_shape=(32,),
            target_is_integer=True,
            input_min=-4.0,
            input_max=5.0,
            input_rows_are_probabilities=False,
            target_min=0,
            target_max=2,
            calls=200,
        ),
        training=TrainingStats(
            steps=200,
            backward_calls=200,
            zero_grad_calls=200,
            loss_steps=steps,
            loss=loss,
            heldout_loss=(0.5, 0.3, 0.2, 0.15),
            optimizer=OptimizerInfo("Adam", lr=1e-3),
            update_ratio=(1e-3,) * 20,
            grad_norm=(0.5,) * 20,
            layer_grad_norm={"0.weight": 0.3, "2.weight": 0.4},
        ),
        probes=Probes(
            train_output=output_probe(),
            heldout_output=output_probe(n_samples=60, score=0.93),
            input_dependence=InputDependence(zeroed_change=1.2, permuted_change=1.4),
            layers=(
                LayerSignal("0", "Linear", None, spread=1.0, mean_abs=1.0, units=32),
                LayerSignal("1", "ReLU", "relu", spread=1.1, dead_fraction=0.05, mean_abs=0.6, units=32),
                LayerSignal("2", "Linear", None, spread=0.9, mean_abs=2.0, units=3),
            ),
            overfit=OverfitProbe(
                steps=100, initial_loss=1.1, final_loss=0.01, initial_score=0.3, final_score=1.0
            ),
            lr_range=LRRangeProbe(
                lrs=(1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0),
                losses=(1.1, 1.09, 0.9, 0.5, 0.8, float("nan")),
                suggested_lr=3e-3,
                diverge_lr=1.0,
                user_lr=1e-3,
            ),
            learnability=LearnabilityProbe(
                metric="balanced_accuracy",
                linear_score=0.95,
                nonlinear_score=0.96,
                permuted_score=0.33,
                chance_score=1 / 3,
                n_samples=300,
            ),
            initial_loss=1.12,
            expected_initial_loss=float(np.log(3)),
        ),
    )


def regression_healthy() -> Evidence:
    """A healthy regression: one output unit, MSE, R^2 0.8."""
    ev = healthy()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 4))
    y = x @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(0, 0.3, 300)
    assert ev.data is not None and ev.loss is not None and ev.model is not None
    return replace(
        ev,
        task=Task(kind="regression", n_classes=None, n_outputs=1),
        data=replace(ev.data, x=x, y=y, x_heldout=x[:60], y_heldout=y[:60]),
        loss=replace(
            ev.loss,
            function="mse_loss",
            input_shape=(32, 1),
            target_shape=(32, 1),
            target_is_integer=False,
            target_min=float(y.min()),
            target_max=float(y.max()),
            input_min=float(y.min()),
            input_max=float(y.max()),
        ),
        probes=replace(
            ev.probes,
            train_output=output_probe(
                distinct_predictions=300,
                majority_share=1 / 300,
                predicted_majority=None,
                score=0.8,
                chance_score=0.0,
                n_outputs=1,
            ),
            heldout_output=output_probe(
                n_samples=60,
                distinct_predictions=60,
                majority_share=1 / 60,
                predicted_majority=None,
                score=0.78,
                chance_score=0.0,
                n_outputs=1,
            ),
            learnability=LearnabilityProbe("r2", 0.9, 0.85, -0.02, 0.0, 300),
            expected_initial_loss=None,
        ),
    )


# --- models whose forward returns a structure ------------------------------------------------------------


@dataclasses.dataclass
class Output:
    hidden: torch.Tensor
    logits: torch.Tensor


class Structured(nn.Module):
    """A 3-class MLP on 8 features whose forward returns its logits inside a structure: ``kind`` is "tuple",
    "tuple-logits-last", "dict", "dict-other-key" (logits under "scores"), "dataclass", "multi-output" (the
    logits and a second head's output) or "hf" (a Hugging Face ``SequenceClassifierOutput``)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.body = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)
        if kind == "multi-output":
            self.aux = nn.Linear(16, 1)

    def forward(self, x: torch.Tensor) -> Any:
        h = self.body(x)
        logits = self.head(h)
        if self.kind == "tuple":
            return logits, h
        if self.kind == "tuple-logits-last":
            return h, logits
        if self.kind == "dict":
            return {"hidden": h, "logits": logits}
        if self.kind == "dict-other-key":
            return {"hidden": h, "scores": logits}
        if self.kind == "multi-output":
            return logits, self.aux(h)
        if self.kind == "hf":
            from transformers.modeling_outputs import SequenceClassifierOutput

            return SequenceClassifierOutput(logits=logits, hidden_states=(h,))
        return Output(hidden=h, logits=logits)
