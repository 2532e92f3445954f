"""The Hugging Face phrasebook: what the ``transformers`` ``Trainer`` says differently.

Learning rate, weight decay, gradient clipping and the training budget are ``TrainingArguments``; the
model code is plain PyTorch, so :func:`deadpan.phrasebook.render` falls back on the PyTorch book for the
actions not listed here.
"""

from __future__ import annotations

from deadpan.findings import Change
from deadpan.phrasebook._common import Phrase, lr_source, lr_value, scale_verb, short


def _lower_momentum(c: Change) -> str:
    lr = c.params["lr"]
    lr_arg = f", lr={lr:g}" if lr is not None else ""
    call = f"torch.optim.{c.params['optimizer']}(model.parameters(){lr_arg}, momentum={c.proposed:g})"
    return (
        f"lower the momentum to {c.proposed:g} in the optimizer given to the Trainer: "
        f"`Trainer(..., optimizers=({call}, None))`"
    )


def _lower_lr(c: Change) -> str:
    new = lr_value(c)
    return (
        f"lower the learning rate to {new} ({lr_source(c)}) and clip the gradients: "
        f"`TrainingArguments(..., learning_rate={new}, max_grad_norm=1.0)`"
    )


def _raise_lr(c: Change) -> str:
    new = lr_value(c)
    return f"raise the learning rate to {new} ({lr_source(c)}): `TrainingArguments(..., learning_rate={new})`"


def _lower_regularization(c: Change) -> str:
    p, fixes = c.params, []
    if p["weight_decay"] is not None:
        new = short(p["new_weight_decay"])
        fixes.append(f"lower the weight decay to {new} (or 0): `TrainingArguments(..., weight_decay={new})`")
    if p["explicit_l2"] is not None:
        fixes.append(
            f"lower the L2 coefficient added to the loss in `compute_loss` from {p['explicit_l2']:g} to "
            "about 1e-4 (or drop the term and use `TrainingArguments(..., weight_decay=1e-4)` instead)"
        )
    return "; ".join(fixes)


def _train_more_steps(c: Change) -> str:
    more, longer = c.params["more"], c.params["longer"]
    return (
        f"train for many more steps: about {more:,.0f} more optimizer steps (~{longer:.0f}x), e.g. "
        "`TrainingArguments(..., num_train_epochs=...)` that much higher; with the whole data set in one "
        "batch, use mini-batches (`per_device_train_batch_size=32` to 256) so each epoch makes many steps"
    )


def _train_longer(c: Change) -> str:
    more, longer, run = c.params["more"], c.params["longer"], c.current
    return (
        f"train longer: about {more:,.0f} more optimizer steps (~{longer:.1f}x the current {run:,.0f}), "
        f"e.g. ~{longer:.1f}x the epochs in `TrainingArguments(..., num_train_epochs=...)` (or "
        "`max_steps`); if the budget is fixed, raise `learning_rate` instead"
    )


def _set_lr(c: Change) -> str:
    lr = f"{c.proposed:.2g}" if c.proposed else "the suggested rate"
    return f"set the learning rate to {lr}: `TrainingArguments(..., learning_rate={lr})`"


def _scale_lr(c: Change) -> str:
    verb = scale_verb(c)
    if c.current is None:
        return f"{verb}: `TrainingArguments(..., learning_rate=...)`"
    return f"{verb}: `TrainingArguments(..., learning_rate={c.proposed:.2g})` instead of {c.current:.2g}"


PHRASES: dict[str, Phrase] = {
    "lower_momentum": _lower_momentum,
    "lower_learning_rate": _lower_lr,
    "raise_learning_rate": _raise_lr,
    "raise_clip_norm": (
        "clip to a larger norm or not at all: `TrainingArguments(..., max_grad_norm={proposed})` "
        "(`max_grad_norm=0` turns clipping off)"
    ),
    "lower_regularization": _lower_regularization,
    "regularize": (
        "regularise: `TrainingArguments(..., weight_decay=1e-4)`, dropout between hidden layers "
        "(`nn.Dropout(0.3)`, or the model config's dropout), stop when the evaluation loss stops improving "
        "with `Trainer(..., callbacks=[EarlyStoppingCallback(early_stopping_patience=5)])` and "
        "`TrainingArguments(..., load_best_model_at_end=True)`, and add training data or augmentation"
    ),
    "train_more_steps": _train_more_steps,
    "train_longer": _train_longer,
    "set_learning_rate": _set_lr,
    "scale_learning_rate": _scale_lr,
    "more_epochs": (
        "train for more epochs (`TrainingArguments(..., num_train_epochs=...)`: {factor}x the {current} "
        "steps it ran), until the loss stops falling"
    ),
    "lighter_regularization": (
        "lower the regularisation: `TrainingArguments(..., weight_decay=...)` around 1e-4 (1e-2 for the "
        "Trainer's default AdamW), dropout `p` of 0.5 or less, and a hand-written L2 term in `compute_loss` "
        "scaled so it stays well below the data loss"
    ),
}
