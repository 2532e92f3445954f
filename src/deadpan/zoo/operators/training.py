"""Operators on the loss, the optimisation, the training loop, its length and regularisation."""

from __future__ import annotations

from dataclasses import replace

from deadpan.zoo.config import Config
from deadpan.zoo.operators.base import _torch, operator
from deadpan.zoo.tasks import Task

# --- loss ---------------------------------------------------------------------------------------------------


@operator("softmax-into-logits-loss", "loss.mismatch", "a softmax before a loss that applies its own")
def _softmax_into_ce(task: Task, p: float) -> Config | None:
    if not _torch(task):  # Keras models already end in softmax/sigmoid: the loss says from_logits=True
        return replace(task.base, loss="from_logits") if task.base.output_activation else None
    if task.kind == "multiclass":
        return replace(task.base, output_activation="softmax")
    if task.kind in ("binary", "multilabel"):  # sigmoid before BCEWithLogitsLoss
        return replace(task.base, output_activation="sigmoid")
    return None


@operator(
    "logits-into-probability-loss",
    "loss.mismatch",
    "no softmax/sigmoid on the output, loss expects probabilities",
)
def _logits_into_probs(task: Task, p: float) -> Config | None:
    if _torch(task) or not task.base.output_activation:
        return None
    return replace(task.base, output_activation=None, loss="probabilities")


@operator("nll-on-logits", "loss.mismatch", "NLLLoss on raw logits (log_softmax missing)")
def _nll(task: Task, p: float) -> Config | None:
    return replace(task.base, loss="nll") if task.kind == "multiclass" and _torch(task) else None


@operator("regression-loss-on-class-ids", "loss.mismatch", "one output unit and MSE on the class ids")
def _mse_ids(task: Task, p: float) -> Config | None:
    # One linear unit, as a user treating the ids as numbers writes it: a softmax or sigmoid kept from the
    # classifier would be a second fault (softmax over one unit, model.output) on top of the injected one.
    if task.kind != "multiclass":
        return None
    return replace(task.base, loss="mse_ids", output_units=1, output_activation=None)


@operator("categorical-loss-on-one-unit", "loss.mismatch", "cross-entropy over a single output unit")
def _ce_one_unit(task: Task, p: float) -> Config | None:
    # In PyTorch this raises (class 1 is out of range for one unit): a loud crash, not a silent fault.
    return replace(task.base, loss="cross_entropy") if task.kind == "binary" and not _torch(task) else None


@operator(
    "softmax-loss-for-multilabel",
    "loss.mismatch",
    "cross-entropy (a softmax over labels) for multi-label targets",
)
def _ce_multilabel(task: Task, p: float) -> Config | None:
    return replace(task.base, loss="cross_entropy") if task.kind == "multilabel" else None


@operator("target-shape-broadcast", "loss.mismatch", "[n] targets against an [n, 1] output in MSELoss")
def _broadcast(task: Task, p: float) -> Config | None:
    # Keras reshapes (n,) targets to the output's rank itself, so this bug does not exist there.
    return replace(task.base, target_shape="squeeze") if task.kind == "regression" and _torch(task) else None


# --- optimisation -------------------------------------------------------------------------------------------


@operator("raise-lr", "optim.lr_too_high", "learning rate multiplied", (100.0, 1000.0))
def _raise_lr(task: Task, p: float) -> Config | None:
    return replace(task.base, lr=task.base.lr * p)


@operator("lower-lr", "optim.lr_too_low", "learning rate divided", (1000.0, 10000.0))
def _lower_lr(task: Task, p: float) -> Config | None:
    return replace(task.base, lr=task.base.lr / p)


@operator("optimizer-to-sgd", "optim.lr_too_low", "Adam replaced by plain SGD at Adam's learning rate")
def _to_sgd(task: Task, p: float) -> Config | None:
    return replace(task.base, optimizer="sgd", momentum=0.0) if task.base.optimizer != "sgd" else None


@operator("clip-gradients-tiny", "optim.lr_too_low", "gradient norm clipped to a tiny value", (1e-4,))
def _clip(task: Task, p: float) -> Config | None:
    return replace(task.base, clip=p)


@operator("lr-decay-every-batch", "optim.lr_too_low", "an epoch schedule (x0.5) stepped every batch")
def _decay(task: Task, p: float) -> Config | None:
    return replace(task.base, schedule=("step", 0.5))


@operator("momentum-too-high", "optim.lr_too_high", "SGD momentum raised to 0.999")
def _momentum(task: Task, p: float) -> Config | None:
    return replace(task.base, momentum=0.999) if task.base.optimizer == "sgd" else None


# --- training loop ------------------------------------------------------------------------------------------


def _bug(task: Task, bug: str) -> Config | None:
    if not _torch(task) and bug != "partial_params":
        return None  # Keras' fit owns the loop
    return replace(task.base, bugs=task.base.bugs | {bug})


@operator("zero-grad-missing", "train.loop", "optimizer.zero_grad() never called")
def _no_zero_grad(task: Task, p: float) -> Config | None:
    return _bug(task, "no_zero_grad")


@operator("loss-detached", "train.loop", "the loss rebuilt from .item(): no gradient reaches the model")
def _detached(task: Task, p: float) -> Config | None:
    return _bug(task, "detached_loss")


@operator("same-batch-every-step", "train.loop", "the first batch used at every step")
def _same_batch(task: Task, p: float) -> Config | None:
    return _bug(task, "same_batch")


@operator("step-missing", "train.loop", "optimizer.step() never called")
def _no_step(task: Task, p: float) -> Config | None:
    return _bug(task, "no_step")


@operator("params-missing-from-optimizer", "train.loop", "only the last layer's parameters are trained")
def _partial(task: Task, p: float) -> Config | None:
    return _bug(task, "partial_params")


@operator("trained-in-eval-mode", "train.loop", "model.eval() before the loop, never model.train()")
def _eval_mode(task: Task, p: float) -> Config | None:
    return _bug(task, "eval_mode")


# --- training length and regularisation ---------------------------------------------------------------------


@operator("one-epoch", "train.too_short", "trained for a single epoch")
def _one_epoch(task: Task, p: float) -> Config | None:
    return replace(task.base, epochs=1)


@operator("full-batch", "train.too_short", "batching disabled: one step per epoch on the whole data")
def _full_batch(task: Task, p: float) -> Config | None:
    return replace(task.base, batch_size=None)


@operator("huge-batch", "train.too_short", "batch size multiplied by 16", (16.0,))
def _huge_batch(task: Task, p: float) -> Config | None:
    return replace(task.base, batch_size=int((task.base.batch_size or 64) * p))


@operator("weight-decay", "train.over_regularized", "L2 weight decay far too strong", (1.0, 0.3))
def _weight_decay(task: Task, p: float) -> Config | None:
    return replace(task.base, weight_decay=p)


@operator("heavy-dropout", "train.over_regularized", "dropout 0.9 after every hidden layer", (0.9,))
def _dropout(task: Task, p: float) -> Config | None:
    return replace(task.base, dropout=p)


@operator("output-dropout", "train.over_regularized", "dropout 0.8 right before the output layer", (0.8,))
def _output_dropout(task: Task, p: float) -> Config | None:
    return replace(task.base, output_dropout=p)


@operator("memorise-noisy-labels", "train.overfit", "20% noisy labels, a 4x wider model, trained 5x longer")
def _memorise(task: Task, p: float) -> Config | None:
    if task.kind not in ("multiclass", "binary"):
        return None
    wide = tuple(4 * h for h in task.base.hidden)
    return replace(
        task.base, data=(*task.base.data, ("shuffle_labels", 0.2)), hidden=wide, epochs=task.base.epochs * 5
    )
