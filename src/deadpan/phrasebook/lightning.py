"""The PyTorch Lightning phrasebook: what a ``LightningModule`` and the ``Trainer`` say differently.

The optimizer is built in ``configure_optimizers`` and the training budget and gradient clipping are
``Trainer`` arguments; everything else (the model code) is plain PyTorch, so :func:`deadpan.phrasebook.render`
falls back on the PyTorch book for the actions not listed here.
"""

from __future__ import annotations

from deadpan.findings import Change
from deadpan.phrasebook._common import Phrase, lr_source, lr_value, scale_verb, short


def optimizer_call(name: str, **kwargs: str) -> str:
    """The optimizer ``configure_optimizers`` returns: ``torch.optim.Adam(self.parameters(), lr=...)``."""
    args = "".join(f", {k}={v}" for k, v in kwargs.items())
    return f"torch.optim.{name}(self.parameters(){args})"


def _lower_momentum(c: Change) -> str:
    lr = c.params["lr"]
    kw = {"lr": f"{lr:g}"} if lr is not None else {}
    call = optimizer_call(c.params["optimizer"], **kw, momentum=f"{c.proposed:g}")
    return f"lower the momentum to {c.proposed:g} in `configure_optimizers`: `return {call}`"


def _lower_lr(c: Change) -> str:
    new = lr_value(c)
    return (
        f"lower the learning rate to {new} ({lr_source(c)}) in `configure_optimizers`: "
        f"`return {optimizer_call(c.params['optimizer'], lr=new)}`, and clip the gradients with "
        "`Trainer(gradient_clip_val=1.0)`"
    )


def _raise_lr(c: Change) -> str:
    new = lr_value(c)
    return (
        f"raise the learning rate to {new} ({lr_source(c)}) in `configure_optimizers`: "
        f"`return {optimizer_call(c.params['optimizer'], lr=new)}`"
    )


def _lower_regularization(c: Change) -> str:
    p, fixes = c.params, []
    if p["weight_decay"] is not None:
        new = short(p["new_weight_decay"])
        call = optimizer_call(p["optimizer"], lr="...", weight_decay=new)
        fixes.append(f"lower the weight decay to {new} (or 0) in `configure_optimizers`: `return {call}`")
    if p["explicit_l2"] is not None:
        fixes.append(
            "lower the L2 coefficient added to the loss in `training_step` from "
            f"{p['explicit_l2']:g} to about 1e-4 (or drop the term and use `weight_decay=1e-4` in "
            "`configure_optimizers` instead)"
        )
    return "; ".join(fixes)


def _train_more_steps(c: Change) -> str:
    more, longer = c.params["more"], c.params["longer"]
    return (
        f"train for many more steps: about {more:,.0f} more optimizer steps (~{longer:.0f}x), e.g. "
        "`Trainer(max_epochs=...)` that much higher; with the whole data set in one batch, give the "
        "`DataLoader` mini-batches (`batch_size=32` to 256) so each epoch makes many steps"
    )


def _train_longer(c: Change) -> str:
    more, longer, run = c.params["more"], c.params["longer"], c.current
    return (
        f"train longer: about {more:,.0f} more optimizer steps (~{longer:.1f}x the current {run:,.0f}), "
        f"e.g. ~{longer:.1f}x the epochs in `Trainer(max_epochs=...)` (or `max_steps`); if the budget is "
        "fixed, raise the learning rate in `configure_optimizers` instead"
    )


def _set_lr(c: Change) -> str:
    lr = f"{c.proposed:.2g}" if c.proposed else "the suggested rate"
    return (
        f"set the learning rate to {lr} in `configure_optimizers`: "
        f"`return {optimizer_call(c.params.get('optimizer', 'Adam'), lr=lr)}`"
    )


def _scale_lr(c: Change) -> str:
    verb = scale_verb(c)
    if c.current is None:
        return f"{verb} in `configure_optimizers`"
    return f"{verb} in `configure_optimizers`: `lr={c.proposed:.2g}` instead of {c.current:.2g}"


PHRASES: dict[str, Phrase] = {
    "lower_momentum": _lower_momentum,
    "lower_learning_rate": _lower_lr,
    "raise_learning_rate": _raise_lr,
    "raise_clip_norm": (
        "clip to a larger norm or not at all: `Trainer(gradient_clip_val={proposed})`, or no "
        "`gradient_clip_val`"
    ),
    "lower_regularization": _lower_regularization,
    "regularize": (
        "regularise: add `weight_decay=1e-4` to the optimizer in `configure_optimizers` (or use "
        "`torch.optim.AdamW`), put `nn.Dropout(0.3)` between hidden layers, stop when the validation loss "
        'stops improving with `Trainer(callbacks=[EarlyStopping(monitor="val_loss", patience=5)])`, and add '
        "training data or augmentation"
    ),
    "train_more_steps": _train_more_steps,
    "train_longer": _train_longer,
    "set_learning_rate": _set_lr,
    "scale_learning_rate": _scale_lr,
    "more_epochs": (
        "train for more epochs (`Trainer(max_epochs=...)`: {factor}x the {current} steps it ran), until the "
        "loss stops falling"
    ),
    "lighter_regularization": (
        "lower the regularisation: `weight_decay` around 1e-4 (1e-2 for AdamW) in `configure_optimizers`, "
        "dropout `p` of 0.5 or less, and a hand-written L2 term in `training_step` scaled so it stays well "
        "below the data loss"
    ),
}
