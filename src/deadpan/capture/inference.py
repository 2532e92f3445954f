"""The PyTorch live check's own forward: a model whose training-mode output differs from inference (dropout,
batch norm) is re-run on the batch in inference mode, so that the check judges the answers the model gives
(:class:`~deadpan.capture.live.LiveMonitor` judges them)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from deadpan.capture import instrument
from deadpan.capture.live import ROWS_PER_CHECK
from deadpan.capture.losses import make_adapter
from deadpan.probes.rng import preserved_rng
from deadpan.probes.tensors import slice_rows

#: Layers whose training-mode output differs from inference: dropout draws noise (a collapsed model's
#: near-tied logits then scatter over classes), batch norm normalises each batch by its own statistics.
MODE_DEPENDENT = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm)


def mode_dependent(model: nn.Module) -> bool:
    """Whether the training forward's output can differ from inference (so the live check re-runs it)."""
    return any(isinstance(m, MODE_DEPENDENT) for m in model.modules())


def inference_output(model: nn.Module, args: Any, kwargs: Any, loss: Any) -> torch.Tensor | None:
    """The model's output on one batch in inference mode, as the loss receives it. Between steps, with
    deadpan's events suspended, the random state kept, and every module's mode restored afterwards: the
    training goes on exactly as without it."""
    modes = [(m, m.training) for m in model.modules()]
    try:
        with instrument.suspended(), preserved_rng(), torch.no_grad():
            for m, _ in modes:  # the flags themselves: a module's own train() override is not called
                m.training = False
            raw = model(*slice_rows(args, ROWS_PER_CHECK), **slice_rows(kwargs, ROWS_PER_CHECK))
    finally:
        for m, mode in modes:
            m.training = mode
    out: torch.Tensor = make_adapter(loss)(raw)
    return out
