"""What the training loop did, from the recorder's counts and series: the evidence's ``training`` part.

Besides the loop's counts and the loss curve: the learning rate the steps ran at (a schedule that decays to
zero leaves a last rate that says nothing), and the gradient-flow audit's parameters that no backward reached.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from deadpan.capture.recorder import Recorder
from deadpan.evidence import OptimizerInfo, TrainingStats


def lr_ran_at(opt: torch.optim.Optimizer, lrs: list[float]) -> float:
    """The median of the learning rates the sampled steps ran at (``lrs``), else the optimizer's current."""
    if lrs:
        return float(np.median(lrs))
    lr = opt.param_groups[0].get("lr", 0.0)
    return float(lr.item()) if isinstance(lr, torch.Tensor) else float(lr)


def _optimizer_info(opt: torch.optim.Optimizer | None, lrs: list[float]) -> OptimizerInfo | None:
    """The optimizer's settings; its learning rate the median of those its steps ran at (``lrs``, sampled)
    when a schedule moved it, else its current one."""
    if opt is None:
        return None
    g = opt.param_groups[0]
    momentum = g.get("momentum", 0.0)
    betas = g.get("betas")
    if not momentum and isinstance(betas, tuple):
        momentum = betas[0]
    name = type(opt).__name__
    lr = lr_ran_at(opt, lrs)
    return OptimizerInfo(
        name=name,
        lr=lr,
        weight_decay=float(g.get("weight_decay", 0.0) or 0.0),
        momentum=float(momentum or 0.0),
        decoupled_weight_decay=name == "AdamW" or bool(g.get("decoupled_weight_decay", False)),
        start_lr=float(lrs[0]) if lrs and lrs[0] != lr else None,
    )


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
        optimizer=_optimizer_info(opt, list(rec.lr_seen.values)),
        update_ratio=tuple(rec.update_ratio.values),
        grad_norm=tuple(rec.grad_norm.values),
        layer_grad_norm=layer_grad,
        **_unreached(rec),
        **_cut(rec),
    )


#: Sampled steps with gradients needed before a parameter without one counts as unreached (one step can
#: precede a layer's first use).
MIN_AUDITED_STEPS = 3


def _unreached(rec: Recorder) -> dict[str, Any]:
    """The parameters no loss reached at any sampled step with gradients, and their element count."""
    audited = rec.steps_grad_checked - rec.steps_without_grad
    if rec.model is None or audited < MIN_AUDITED_STEPS:
        return {}
    names = tuple(n for n, k in rec.ungraded.items() if k >= audited)
    sizes = {n: p.numel() for n, p in rec.model.named_parameters()}
    return {"unreached": names, "unreached_elements": sum(sizes.get(n, 0) for n in names)}


def _cut(rec: Recorder) -> dict[str, Any]:
    """The parameters the loss reaches only through zero-derivative operations, and their element count."""
    if rec.model is None or not rec.gradient_cuts:
        return {}
    sizes = {n: p.numel() for n, p in rec.model.named_parameters()}
    names = {n for cut in rec.gradient_cuts.values() for n in cut}
    return {"gradient_cuts": dict(rec.gradient_cuts), "cut_elements": sum(sizes.get(n, 0) for n in names)}
