"""The PyTorch book, second half: the optimizer, the training loop and its budget."""

from __future__ import annotations

from deadpan.findings import Change
from deadpan.phrasebook._common import Phrase, lr_source, lr_value, names_shown, scale_verb, short


def optimizer_call(name: str, **kwargs: str) -> str:
    """The optimizer construction: ``torch.optim.Adam(model.parameters(), lr=...)``."""
    args = "".join(f", {k}={v}" for k, v in kwargs.items())
    return f"torch.optim.{name}(model.parameters(){args})"


def _lower_momentum(c: Change) -> str:
    lr = c.params["lr"]
    kw = {"lr": f"{lr:g}"} if lr is not None else {}
    call = optimizer_call(c.params["optimizer"], **kw, momentum=f"{c.proposed:g}")
    return f"lower the momentum to {c.proposed:g}: `{call}`"


def _lower_lr(c: Change) -> str:
    new = lr_value(c)
    return (
        f"lower the learning rate to {new} ({lr_source(c)}): "
        f"`{optimizer_call(c.params['optimizer'], lr=new)}`, "
        "and clip the gradients with `torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)` between "
        "`loss.backward()` and `optimizer.step()`"
    )


def _raise_lr(c: Change) -> str:
    new = lr_value(c)
    call = optimizer_call(c.params["optimizer"], lr=new)
    return f"raise the learning rate to {new} ({lr_source(c)}): `{call}`"


def _lower_regularization(c: Change) -> str:
    p, fixes = c.params, []
    if p["weight_decay"] is not None:
        new = short(p["new_weight_decay"])
        call = optimizer_call(p["optimizer"], lr="...", weight_decay=new)
        fixes.append(f"lower the weight decay to {new} (or 0): `{call}`")
    if p["explicit_l2"] is not None:
        fixes.append(
            f"lower the L2 coefficient added to the loss from {p['explicit_l2']:g} to about 1e-4 (or drop "
            "the term and use `weight_decay=1e-4` in the optimizer instead)"
        )
    return "; ".join(fixes)


def _train_more_steps(c: Change) -> str:
    more, longer = c.params["more"], c.params["longer"]
    return (
        f"train for many more steps: about {more:,.0f} more optimizer steps (~{longer:.0f}x); with the whole "
        "data set in one batch, use mini-batches (e.g. 32-256 samples) so each epoch makes many steps"
    )


def _train_longer(c: Change) -> str:
    more, longer, run = c.params["more"], c.params["longer"], c.current
    return (
        f"train longer: about {more:,.0f} more optimizer steps (~{longer:.1f}x the current "
        f"{run:,.0f}), e.g. raise the number of epochs in `for epoch in range(num_epochs):` by "
        f"~{longer:.1f}x; if the budget is fixed, raise the learning rate instead"
    )


def _backward_on_loss(c: Change) -> str:
    fix = (
        "call `.backward()` on the tensor the loss function returns (`loss = loss_fn(model(x), y); "
        "loss.backward()`): do not rebuild the loss from `.item()`, `.detach()`, `.numpy()` or "
        "`torch.tensor(...)`, and use `loss.item()` only for logging"
    )
    if c.params["cleared_between"]:
        fix += (
            "; call `optimizer.zero_grad()` before `loss.backward()`, not between it and `optimizer.step()`"
        )
    return fix


def _fresh_batches(c: Change) -> str:
    if c.params["loader"]:
        return (
            "create the iterator once per epoch and loop over it: `for epoch in range(epochs):` / `for "
            "x, y in loader:` instead of calling `next(iter(loader))` every step"
        )
    return (
        "take a different slice at every step: draw `perm = torch.randperm(n)` once per epoch and "
        "use `idx = perm[i:i + batch_size]` for `i in range(0, n, batch_size)` (not `torch.arange("
        "batch_size)` or `x[:batch_size]`), or iterate `DataLoader(TensorDataset(x, y), batch_size="
        "..., shuffle=True)` with `for x, y in loader:`"
    )


def _optimize_all(c: Change) -> str:
    return (
        "build the optimizer from every parameter, `torch.optim.Adam(model.parameters(), lr=...)`, "
        "after the whole model is built (not from one submodule); register layers as module attributes "
        "or in `nn.ModuleList`/`nn.Sequential`, not in a Python list"
    ) + (f" (missing: {names_shown(c)})" if c.params.get("names") else "")


def _reconnect(c: Change) -> str:
    op = c.params.get("cut_by")
    if op:
        return (
            f"take `torch.{op}` out of the path from {names_shown(c)} to the loss (its derivative is zero "
            "everywhere, so no gradient passes back through it): keep it for inference only, or let the "
            f"gradient through with a straight-through estimator, `x + (torch.{op}(x) - x).detach()`"
        )
    return (
        f"make the output depend on {names_shown(c)}: use their result in `forward` instead of dropping it "
        "(a value computed and not passed on, or cut by `.detach()`, `.data`, `torch.no_grad()`, `.item()`, "
        "`argmax` or rounding, passes no gradient back), or remove them from the model"
    )


def _set_lr(c: Change) -> str:
    lr = f"{c.proposed:.2g}" if c.proposed else "the suggested rate"
    call = optimizer_call(c.params.get("optimizer", "Adam"), lr=lr)
    return f"set the optimizer's learning rate to {lr} (`{call}`)"


def _scale_lr(c: Change) -> str:
    verb = scale_verb(c)
    if c.current is None:
        return verb
    return f"{verb}: `lr={c.proposed:.2g}` instead of {c.current:.2g}"


def _more_epochs(c: Change) -> str:
    return (
        f"train for more epochs ({c.params['factor']}x the {c.current} steps it ran), until the loss stops "
        "falling"
    )


PHRASES: dict[str, Phrase] = {
    "lower_momentum": _lower_momentum,
    "lower_learning_rate": _lower_lr,
    "raise_learning_rate": _raise_lr,
    "raise_clip_norm": (
        "clip to a larger norm or not at all: "
        "`torch.nn.utils.clip_grad_norm_(model.parameters(), {proposed})`"
    ),
    "unfreeze_layers": (
        "unfreeze them: `for p in model.parameters(): p.requires_grad_(True)`, then build the "
        "optimizer from `model.parameters()`; freeze only layers that hold pretrained weights, "
        "loaded before freezing"
    ),
    "lower_dropout": (
        "lower the dropout before the output layer to {proposed:g} or less (`nn.Dropout(p={proposed:g})`) or "
        "remove it; if the model overfits, put dropout on earlier, wider layers instead"
    ),
    "regularize": (
        "regularise: add `weight_decay=1e-4` to the optimizer (or use `torch.optim.AdamW`), put "
        "`nn.Dropout(0.3)` between hidden layers, stop training when the held-out loss stops improving "
        "(early stopping), and add training data or augmentation"
    ),
    "backward_on_loss": _backward_on_loss,
    "train_more_steps": _train_more_steps,
    "train_longer": _train_longer,
    "call_optimizer_step": (
        "call `optimizer.step()` right after `loss.backward()` in every training step (and "
        "`optimizer.zero_grad()` before the next `loss.backward()`)"
    ),
    "optimize_all_params": _optimize_all,
    "reconnect_parameters": _reconnect,
    "fresh_batch_every_step": _fresh_batches,
    "train_mode": (
        "call `model.train()` at the start of every training epoch (after any validation pass) and "
        "`model.eval()` only around evaluation"
    ),
    "lower_regularization": _lower_regularization,
    "call_zero_grad": (
        "call `optimizer.zero_grad()` at the start of every training step, before "
        "`loss.backward()` (with gradient accumulation: right after every `optimizer.step()`)"
    ),
    "correct_loop": (
        "use the standard loop: `opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step()`"
    ),
    "lighter_regularization": (
        "lower the regularisation: `weight_decay` around 1e-4 (1e-2 for AdamW), dropout `p` of 0.5 or "
        "less, and a hand-written L2 term scaled so it stays well below the data loss"
    ),
    "set_learning_rate": _set_lr,
    "more_epochs": _more_epochs,
    "scale_learning_rate": _scale_lr,
}
