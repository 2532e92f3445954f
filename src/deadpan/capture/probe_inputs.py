"""What the PyTorch probes work from, whichever way deadpan came in (``deadpan run``, ``watch``, a callback,
``diagnose``). A plain record: importing it imports no framework, so that the fix trials and the run path can
tell a PyTorch run's inputs from a Keras run without loading torch for a Keras one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from torch import nn

    from deadpan.capture.loss_record import LossRecord
    from deadpan.capture.losses import LossFn
    from deadpan.capture.recorder import Recorder
    from deadpan.capture.stream import StreamStats
    from deadpan.probes.forward import Batch


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
    #: ``diagnose``: the trainable parameters no optimizer group holds (count, names), read from the user's
    #: own model before it was copied (a copy's parameters are never the optimizer's).
    unoptimized: tuple[int, tuple[str, ...]] | None = None
    #: A generator's (``deadpan run``): samples of the data its discriminator was shown as real, which its
    #: own samples' diversity is compared with (:mod:`deadpan.capture.targetless`).
    reference: torch.Tensor | None = None


#: What a plain loop's diagnosis misses when no optimizer was created over a module's parameters (``deadpan
#: run`` found no model); the same words whether or not the run imported torch at all.
NO_MODEL = "a model (no optimizer was created over an nn.Module's parameters)"
