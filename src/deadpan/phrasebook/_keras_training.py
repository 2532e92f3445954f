"""The Keras book, second half: the optimizer, the training loop and its budget."""

from __future__ import annotations

from deadpan.findings import Change
from deadpan.phrasebook._common import Phrase, lr_source, lr_value, names_shown, scale_verb, short


def optimizer_call(name: str, **kwargs: str) -> str:
    """The optimizer construction: ``keras.optimizers.Adam(learning_rate=...)``."""
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    return f"keras.optimizers.{name}({args})"


def compile_call(name: str, **kwargs: str) -> str:
    """``model.compile`` with a changed optimizer:
    ``model.compile(optimizer=keras.optimizers.Adam(...), ...)``."""
    return f"model.compile(optimizer={optimizer_call(name, **kwargs)}, ...)"


def _lower_momentum(c: Change) -> str:
    lr = c.params["lr"]
    kw = {"learning_rate": f"{lr:g}"} if lr is not None else {}
    call = compile_call(c.params["optimizer"], **kw, momentum=f"{c.proposed:g}")
    return f"lower the momentum to {c.proposed:g}: `{call}`"


def _lower_lr(c: Change) -> str:
    new = lr_value(c)
    call = compile_call(c.params["optimizer"], learning_rate=new, clipnorm="1.0")
    return f"lower the learning rate to {new} ({lr_source(c)}) and clip the gradients: `{call}`"


def _raise_lr(c: Change) -> str:
    new = lr_value(c)
    call = compile_call(c.params["optimizer"], learning_rate=new)
    return f"raise the learning rate to {new} ({lr_source(c)}): `{call}`"


def _lower_regularization(c: Change) -> str:
    p, fixes = c.params, []
    if p["weight_decay"] is not None:
        new = short(p["new_weight_decay"])
        call = compile_call(p["optimizer"], learning_rate="...", weight_decay=new)
        fixes.append(f"lower the weight decay to {new} (or 0): `{call}`")
    if p["explicit_l2"] is not None:
        # Keras reports a `kernel_regularizer` l2 factor as the weight decay it amounts to, 2 * l2.
        fixes.append(
            f"lower the L2 factor from {p['explicit_l2'] / 2:g} to about 1e-4, `kernel_regularizer="
            "keras.regularizers.l2(1e-4)`, or drop the regularizer"
        )
    return "; ".join(fixes)


def _train_more_steps(c: Change) -> str:
    more, longer = c.params["more"], c.params["longer"]
    return (
        f"train for many more steps: about {more:,.0f} more batches, i.e. more `epochs` or a smaller "
        f"`batch_size` (~{longer:.0f}x); with the whole data set in one batch, use mini-batches (e.g. 32-256 "
        "samples) so each epoch makes many steps"
    )


def _train_longer(c: Change) -> str:
    more, longer, run = c.params["more"], c.params["longer"], c.current
    return (
        f"train longer: about {more:,.0f} more steps (~{longer:.1f}x the current {run:,.0f} "
        f"batches), i.e. ~{longer:.1f}x the `epochs` in `model.fit(..., epochs=...)`; if the budget "
        "is fixed, raise the learning rate instead"
    )


def _backward_on_loss(c: Change) -> str:
    fix = (
        "compute the loss from the model's outputs inside the training step (as `model.fit` does), not from "
        "NumPy copies of them (`.numpy()`, `np.array(...)`), so that gradients reach the weights"
    )
    if c.params["cleared_between"]:
        fix += "; apply the gradients in the step that computed them"
    return fix


def _optimize_all(c: Change) -> str:
    return (
        "compile the model after every layer is built and added, and keep layers as attributes of the model "
        "(not in a plain Python list) so that `model.trainable_variables` holds them"
    ) + (f" (missing: {names_shown(c)})" if c.params.get("names") else "")


def _reconnect(c: Change) -> str:
    return (
        f"make the output depend on {names_shown(c)}: connect their layer's output to the model's output "
        "instead of dropping it (a value computed and not passed on, or cut by `ops.stop_gradient`, "
        "`argmax` or rounding, passes no gradient back), or remove the layer"
    )


def _set_lr(c: Change) -> str:
    lr = f"{c.proposed:.2g}" if c.proposed else "the suggested rate"
    return f"set the optimizer's `learning_rate={lr}`"


def _scale_lr(c: Change) -> str:
    verb = scale_verb(c)
    if c.current is None:
        return verb
    return f"{verb}: `learning_rate={c.proposed:.2g}` instead of {c.current:.2g}"


PHRASES: dict[str, Phrase] = {
    "lower_momentum": _lower_momentum,
    "lower_learning_rate": _lower_lr,
    "raise_learning_rate": _raise_lr,
    "raise_clip_norm": lambda c: (
        "clip to a larger norm or not at all: "
        f"`{compile_call(c.params['optimizer'], clipnorm=str(c.proposed))}`"
    ),
    "unfreeze_layers": (
        "unfreeze them: `for layer in model.layers: layer.trainable = True`, then "
        "`model.compile(...)` again (a change of `trainable` takes effect at compile); freeze only "
        "layers that hold pretrained weights, loaded before freezing"
    ),
    "lower_dropout": (
        "lower the dropout before the output layer to {proposed:g} or less "
        "(`keras.layers.Dropout({proposed:g})`) or remove it; if the model overfits, put dropout on earlier, "
        "wider layers instead"
    ),
    "regularize": (
        "regularise: put `layers.Dropout(0.3)` between hidden layers, add "
        "`kernel_regularizer=keras.regularizers.l2(1e-4)` to the `Dense` layers (or `weight_decay=1e-4` in "
        "the optimizer), stop when the validation loss stops improving with "
        '`model.fit(..., callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, '
        "restore_best_weights=True)])`, and add training data or augmentation"
    ),
    "backward_on_loss": _backward_on_loss,
    "train_more_steps": _train_more_steps,
    "train_longer": _train_longer,
    "call_optimizer_step": (
        "apply the gradients at every training step, `optimizer.apply_gradients(zip(grads, "
        "model.trainable_variables))` right after computing them, or let `model.fit` run the step"
    ),
    "optimize_all_params": _optimize_all,
    "reconnect_parameters": _reconnect,
    "fresh_batch_every_step": (
        "pass the whole arrays to `model.fit(x, y, batch_size=..., shuffle=True)` instead of calling "
        "`train_on_batch` on the same slice at every step"
    ),
    "train_mode": (
        "train with `model.fit` (or call the model with `training=True` in a custom training step) and use "
        "`training=False` only for evaluation"
    ),
    "lower_regularization": _lower_regularization,
    "call_zero_grad": (
        "let `model.fit` run the training step (it starts every step from fresh gradients); in a custom "
        "step, apply each step's gradients once instead of adding them to the earlier steps'"
    ),
    "correct_loop": (
        "use the standard loop: `opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step()`"
    ),
    "lighter_regularization": (
        "lower the regularisation: a `kernel_regularizer` of 1e-4 or less, `Dropout(rate)` of 0.5 or "
        "less, no `weight_decay` above 1e-2 in the optimizer"
    ),
    "set_learning_rate": _set_lr,
    "more_epochs": lambda c: (
        f"train for more epochs (`model.fit(..., epochs=...)`: {c.params['factor']}x the {c.current} steps "
        "it ran)"
    ),
    "scale_learning_rate": _scale_lr,
}
