"""The evidence model: what capture and probes measured, as plain framework-neutral data.

Checks read only these dataclasses, never a framework object, so each check is tested with small hand-made
evidence and runs the same for every framework. Every section is optional: a check declares the sections it
needs (``Check.requires``) and is reported as skipped when one is missing.

Arrays are small bounded samples (at most a few thousand rows); everything else is summary statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from deadpan.evidence.trained_probes import LearnabilityProbe as LearnabilityProbe
from deadpan.evidence.trained_probes import LRRangeProbe as LRRangeProbe
from deadpan.evidence.trained_probes import OverfitProbe as OverfitProbe

#: ``generative`` (a GAN's generator) and ``embedding`` (metric learning): outputs without targets of their
#: own, judged by their diversity (:mod:`deadpan.capture.targetless`).
TaskKind = Literal["multiclass", "binary", "multilabel", "regression", "generative", "embedding", "unknown"]


@dataclass(frozen=True)
class Task:
    """What the model is asked to predict, inferred from the loss and the targets."""

    kind: TaskKind
    #: Number of classes for classification (from the targets and the output width), else None.
    n_classes: int | None
    #: Width of the model output's last dimension.
    n_outputs: int
    #: Targets per sample: one class per position of a sequence (a language model's next tokens, a tagger's
    #: tags) or of an image (segmentation) gives the positions per sample; 1 for one target per sample.
    #: Per-position classes are scored by cross-entropy skill (:func:`deadpan.probes.task.score`).
    positions: int = 1
    #: The loss's ``ignore_index`` (padding and masked positions), left out of every score; None without.
    ignore_index: int | None = None


@dataclass
class StreamCounts:
    """What one pass over the data saw, over every row (``diagnose``): counts only, no sample. The pass
    itself (:func:`deadpan.capture.stream.scan`) fills a :class:`~deadpan.capture.stream.StreamStats`, these
    counts with the uniform sample of rows."""

    rows: int = 0
    batches: int = 0
    seconds: float = 0.0
    #: Rows whose inputs (targets) hold NaN or inf, and the first such row (0-based, in stream order).
    nonfinite_input_rows: int = 0
    nonfinite_target_rows: int = 0
    first_nonfinite_input_row: int | None = None
    first_nonfinite_target_row: int | None = None
    #: Rows per class id (index = id) when every target is an integer id in [0, MAX_CLASSES); else None.
    class_counts: np.ndarray | None = None
    #: Mean and std of the finite targets (every target element).
    target_mean: float = 0.0
    target_std: float = 0.0
    #: Per input feature over the finite rows: mean, std, min, max (None before the first finite row).
    feature_mean: np.ndarray | None = None
    feature_std: np.ndarray | None = None
    feature_min: np.ndarray | None = None
    feature_max: np.ndarray | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else math.inf

    @property
    def distinct_classes(self) -> int | None:
        return None if self.class_counts is None else int((self.class_counts > 0).sum())

    def counts_nbytes(self) -> int:
        """Memory the counts hold, in bytes: flat in the number of rows."""
        arrays = (self.class_counts, self.feature_mean, self.feature_std, self.feature_min, self.feature_max)
        return sum(a.nbytes for a in arrays if a is not None)


@dataclass(frozen=True)
class DataStats:
    """A bounded sample of the training (and held-out) data, and statistics over every batch seen."""

    x: np.ndarray  # (n, ...) float64 sample of training inputs
    y: np.ndarray  # (n, ...) training targets, as given to the loss
    x_heldout: np.ndarray | None = None
    y_heldout: np.ndarray | None = None
    input_dtype: str = "float32"
    samples_seen: int = 0
    #: First step whose inputs / targets held NaN or inf, None when every batch was finite.
    nonfinite_input_step: int | None = None
    nonfinite_target_step: int | None = None
    #: Distinct input-batch fingerprints among the training batches fingerprinted.
    distinct_batches: int | None = None
    batches_fingerprinted: int = 0
    #: Size of the dataset behind the DataLoader (PyTorch), or of the arrays given to ``fit`` (Keras);
    #: None when unknown.
    dataset_size: int | None = None
    batch_size: int | None = None
    #: New DataLoader iterators created per optimizer step (1.0 for ``next(iter(loader))`` each step).
    loader_iters_per_step: float | None = None
    #: ``diagnose``: exact counts over every row of the data (``x``/``y`` are then a uniform sample of it).
    stream: StreamCounts | None = None


@dataclass(frozen=True)
class LayerInfo:
    """One module of the model, in the order a forward pass executes it."""

    name: str
    kind: str  # class name: "Linear", "Conv2d", "ReLU", "Softmax", ...
    #: Activation family for activation layers ("relu", "sigmoid", "tanh", "softmax", ...), else None.
    activation: str | None = None
    #: Output units (Linear out_features, Conv out_channels), None for parameter-free layers.
    units: int | None = None
    n_params: int = 0
    trainable: bool = True
    #: Drop probability of a dropout layer (``nn.Dropout(p)``, ``layers.Dropout(rate)``), else None.
    dropout: float | None = None


@dataclass(frozen=True)
class WeightStats:
    """Statistics of one weight matrix (Linear/Conv/Embedding), at initialisation or at the end."""

    name: str
    kind: str
    shape: tuple[int, ...]
    std: float
    mean_abs: float
    fan_in: int
    fan_out: int
    #: Fraction of output units whose weight rows are distinct (1/fan_out when all rows are equal).
    distinct_rows: float
    #: The std a standard initialiser gives at this fan-in (He for ReLU-family layers, else Glorot).
    expected_std: float


@dataclass(frozen=True)
class ModelStats:
    """The model's structure and its weights at the start and the end of training."""

    framework: str
    layers: tuple[LayerInfo, ...]
    n_params: int
    n_trainable: int
    #: Trainable parameters (elements) no optimizer steps.
    params_not_in_optimizer: int = 0
    #: Names of the parameter tensors no optimizer steps.
    unoptimized_names: tuple[str, ...] = ()
    initial_weights: tuple[WeightStats, ...] = ()
    final_weights: tuple[WeightStats, ...] = ()
    #: Model has dropout or batch-norm style layers whose behaviour depends on train/eval mode.
    has_mode_dependent_layers: bool = False
    #: Parameters filled from a checkpoint during the run (``load_state_dict``; Keras: ``<layer>.weights`` of
    #: layers ``load_weights`` or ``load_model`` filled), and how many loads deadpan saw in all; None where it
    #: did not watch loading (a model given to ``diagnose``, a Keras callback).
    loaded_names: tuple[str, ...] | None = None
    state_loads: int = 0


@dataclass(frozen=True)
class LossCall:
    """How the loss was computed: the function, the shapes and value ranges at the first call."""

    function: str  # "cross_entropy", "mse_loss", "binary_cross_entropy_with_logits", "backward" ...
    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...]
    target_is_integer: bool
    input_min: float
    input_max: float
    #: Every row of the input is non-negative and sums to 1 (the output of a softmax).
    input_rows_are_probabilities: bool
    target_min: float
    target_max: float
    #: Shape the elementwise loss broadcast input and target to, when that differs from the input's.
    broadcast_shape: tuple[int, ...] | None = None
    has_class_weights: bool = False
    calls: int = 0
    reduction: str = "mean"
    #: The loss as the user wrote it, for messages: "binary_crossentropy" (Keras), "" when it is ``function``.
    name: str = ""
    #: Keras' ``from_logits`` argument of the loss; None for PyTorch losses (the function name says it).
    from_logits: bool | None = None
    #: The input is log-probabilities normalised along each row (every value <= 0, ``logsumexp`` over the last
    #: axis 0: a ``log_softmax(dim=1)``) / down each column (over the batch: a ``log_softmax(dim=0)``).
    #: None when not measured (measured for the log-probability losses, ``nll_loss``).
    input_rows_are_log_probabilities: bool | None = None
    input_columns_are_log_probabilities: bool | None = None


@dataclass(frozen=True)
class OptimizerInfo:
    name: str
    lr: float
    weight_decay: float = 0.0
    momentum: float = 0.0
    #: Weight decay decoupled from the gradient (AdamW) rather than added to it as L2.
    decoupled_weight_decay: bool = False
    #: Gradient-norm clipping the optimizer itself applies (Keras' ``clipnorm`` / ``global_clipnorm``);
    #: None when it clips nothing. PyTorch clips outside the optimizer: seen in the gradient norms instead.
    clip_norm: float | None = None
    #: The learning rate at the first sampled step, where a schedule moved it from there (``lr`` is the median
    #: the steps ran at); None when it stayed put or is unknown.
    start_lr: float | None = None


@dataclass(frozen=True)
class TrainingStats:
    """What the training loop did, step by step (downsampled to a bounded number of points)."""

    steps: int
    backward_calls: int
    zero_grad_calls: int
    #: Optimizer steps taken without the gradients being cleared since the previous step.
    steps_without_zero_grad: int = 0
    #: ``backward()`` called on a tensor with no autograd history (a loss rebuilt from ``.item()``).
    backward_on_detached: int = 0
    #: Optimizer steps at which no parameter of the model had a gradient.
    steps_without_grad: int = 0
    steps_in_eval_mode: int = 0
    loss_steps: tuple[int, ...] = ()
    loss: tuple[float, ...] = ()
    first_nonfinite_loss_step: int | None = None
    heldout_loss: tuple[float, ...] = ()
    optimizer: OptimizerInfo | None = None
    #: Median update-to-weight norm ratio per step, over sampled steps (rule of thumb: about 1e-3).
    update_ratio: tuple[float, ...] = ()
    #: Global gradient norm at sampled steps.
    grad_norm: tuple[float, ...] = ()
    #: Per-layer gradient norm, median over sampled steps.
    layer_grad_norm: dict[str, float] = field(default_factory=dict)
    #: Explicit regularisation found in the loss (an L2 penalty added by hand), as a coefficient.
    explicit_l2: float = 0.0
    #: Trainable parameters with no gradient at every sampled step while others had one: the loss does not
    #: depend on them (the gradient-flow audit), and their element count.
    unreached: tuple[str, ...] = ()
    unreached_elements: int = 0
    #: Trainable parameters the loss reaches only through operations whose derivative is zero everywhere
    #: (rounding, ``sign``), by the operation: their gradient is zeros at every step. Read once from the
    #: autograd graph of the first loss (PyTorch); with their element count.
    gradient_cuts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cut_elements: int = 0


@dataclass(frozen=True)
class OutputProbe:
    """The (final) model's outputs on a probe batch: the symptom deadpan reports first."""

    n_samples: int
    distinct_predictions: int
    majority_share: float
    #: Class the model predicts most (classification), None for regression.
    predicted_majority: int | None
    #: Across-sample output spread relative to the targets' spread (0 = constant output).
    output_spread_ratio: float
    #: Balanced accuracy (classification) or R^2 (regression) on the probe batch.
    score: float
    #: The same metric for the best input-independent answer (1/C, or R^2 = 0).
    chance_score: float
    nonfinite_outputs: bool = False
    #: Output of the model's final layer lies in [0, 1] / is non-negative for every sample.
    outputs_in_unit_interval: bool = False
    outputs_nonnegative: bool = False
    #: Rows sum to 1 over the batch axis (softmax taken over the wrong dimension).
    columns_sum_to_one: bool = False
    rows_sum_to_one: bool = False
    #: Largest loss-input-to-target dimension: the width the output layer has.
    n_outputs: int = 1
    #: Single-label classification: recall of each class id on the probe batch (NaN for a class absent from
    #: its targets); empty otherwise.
    class_recall: tuple[float, ...] = ()
    #: Regression with one output on targets that look like class ids: balanced accuracy of the outputs
    #: rounded to the nearest id (:func:`deadpan.probes.task.rounded_score`); None otherwise.
    rounded_score: float | None = None
    #: For the report's plots (bounded): single-label classification: how many probe samples each class is
    #: predicted for and how many carry it as their target; regression: (prediction, target) pairs of the
    #: first output for up to PLOT_PAIRS samples. Empty otherwise.
    predicted_counts: tuple[int, ...] = ()
    target_counts: tuple[int, ...] = ()
    pairs: tuple[tuple[float, float], ...] = ()

    @property
    def normalized_score(self) -> float:
        """Score rescaled so that chance is 0 and perfect is 1."""
        top = 1.0
        return (self.score - self.chance_score) / max(top - self.chance_score, 1e-12)


@dataclass(frozen=True)
class InputDependence:
    """How much the output moves when the inputs are replaced (relative to the output's own spread)."""

    zeroed_change: float
    permuted_change: float


@dataclass(frozen=True)
class LayerSignal:
    """One layer's activations on the probe batch."""

    name: str
    kind: str
    activation: str | None
    #: Across-sample std of the layer output relative to its mean magnitude (0 = same for every input).
    spread: float
    #: Fraction of units that are zero for every probe sample (ReLU family).
    dead_fraction: float = 0.0
    #: Fraction of units within 1% of the activation's limits for nearly every sample (sigmoid, tanh).
    saturated_fraction: float = 0.0
    mean_abs: float = 0.0
    units: int = 0


@dataclass(frozen=True)
class Probes:
    train_output: OutputProbe | None = None
    heldout_output: OutputProbe | None = None
    input_dependence: InputDependence | None = None
    layers: tuple[LayerSignal, ...] = ()
    overfit: OverfitProbe | None = None
    lr_range: LRRangeProbe | None = None
    learnability: LearnabilityProbe | None = None
    #: First loss value seen (or computed on the untrained copy) and its expected value (ln C, ...).
    initial_loss: float | None = None
    expected_initial_loss: float | None = None


@dataclass(frozen=True)
class Evidence:
    """Everything one diagnosis knows. ``source`` says how it was captured: run, diagnose or watch."""

    source: str
    task: Task | None = None
    data: DataStats | None = None
    model: ModelStats | None = None
    loss: LossCall | None = None
    training: TrainingStats | None = None
    probes: Probes = field(default_factory=Probes)
    #: What could not be observed (no model, no training step ...), for an inconclusive verdict.
    missing: tuple[str, ...] = ()
    internal_errors: tuple[str, ...] = ()
    #: Seconds each probe took (reported, so users see what the diagnosis cost).
    timings: dict[str, float] = field(default_factory=dict)
