"""Every fix deadpan can trial, one per module; importing this package registers them all."""

from __future__ import annotations

from deadpan.fixes.base import REGISTRY, Fix
from deadpan.fixes.catalog import (  # noqa: F401
    binary_loss,
    correct_loop,
    lighter_regularization,
    logits_into_loss,
    lr_from_range_test,
    match_target_shape,
    more_steps,
    nonlinear_wider,
    optimizer_default_lr,
    output_head,
    reinitialize,
    relu_activations,
    repair_labels,
    resample_classes,
    scale_lr,
    standardize_inputs,
    train_every_parameter,
)


def all_fixes() -> list[Fix]:
    """Every registered fix, in registration order."""
    return list(REGISTRY.values())
