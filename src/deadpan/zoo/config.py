"""What a zoo training is made of: a base task and the knobs a mutation operator turns.

A :class:`Config` is plain, frozen and picklable, so a worker process rebuilds the exact training from it.
The training functions (:mod:`deadpan.zoo.torch_train`, :mod:`deadpan.zoo.keras_train`) read it the way a
user's script reads its hyper-parameters; a mutation is a ``dataclasses.replace`` of one or more knobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: A data-pipeline step: (operation, parameter); see :data:`deadpan.zoo.data.DATA_OPS`.
DataOp = tuple[str, float]


@dataclass(frozen=True)
class Config:
    task: str
    framework: str = "torch"
    #: Steps applied to the training data (and, for ``test_*`` steps, the held-out data), in order.
    data: tuple[DataOp, ...] = ()
    #: Hidden widths (MLP layers, CNN channels, or the GRU state followed by a dense layer).
    hidden: tuple[int, ...] = (64, 64)
    activation: str = "relu"
    #: Activation after the last layer, or None (logits / raw regression output).
    output_activation: str | None = None
    #: "default", "zeros", "constant", or "normal" (with ``init_std``).
    init: str = "default"
    init_std: float = 1.0
    #: Added to the first layer's bias after initialisation (e.g. -20 switches every ReLU off).
    first_bias: float = 0.0
    bias: bool = True
    dropout: float = 0.0
    #: Dropout right before the output layer.
    output_dropout: float = 0.0
    #: "default" is the task's correct loss; otherwise a named loss (see the training functions).
    loss: str = "default"
    #: Output units when a mutation changes them (None: the task's).
    output_units: int | None = None
    #: Target shape bug: "squeeze" trains [n] targets against an [n, 1] output.
    target_shape: str = "default"
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float = 0.0
    #: None trains on the whole data set in one batch per epoch.
    batch_size: int | None = 64
    epochs: int = 20
    #: Clip the gradient norm to this value before each step.
    clip: float | None = None
    #: A learning-rate schedule stepped once per batch: ("step", gamma) multiplies by gamma each step.
    schedule: tuple[str, float] | None = None
    #: Loop bugs, e.g. "no_zero_grad", "detached_loss", "same_batch", "no_step", "eval_mode".
    bugs: frozenset[str] = field(default_factory=frozenset)
