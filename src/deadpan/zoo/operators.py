"""Mutation operators: each injects one cause from the vocabulary into a healthy base task.

In the spirit of DeepCrime's operators, which were drawn from real faults (training data, hyper-parameters,
activations, regularisation, weights, loss, optimisation), plus the loop and pipeline bugs users write
(zero_grad missing, loss detached, the same batch every step, integer division of pixel values, inputs and
labels shuffled apart, a softmax into a logits loss, target shapes that broadcast).

An operator declares the category it injects. Whether the mutant really harms the model is not assumed:
:mod:`deadpan.zoo.kill` decides that from several seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from deadpan.zoo.config import Config
from deadpan.zoo.tasks import Task


@dataclass(frozen=True)
class Operator:
    name: str
    category: str
    description: str
    #: (task, parameter) -> mutated config, or None where the operator does not apply to the task.
    mutate: Callable[[Task, float], Config | None]
    params: tuple[float, ...] = (0.0,)


@dataclass(frozen=True)
class Mutant:
    task: str
    operator: str
    param: float
    category: str
    config: Config

    @property
    def id(self) -> str:
        p = "" if self.param == 0.0 else f"={self.param:g}"
        return f"{self.task}/{self.operator}{p}"


OPERATORS: dict[str, Operator] = {}


def operator(
    name: str, category: str, description: str, params: tuple[float, ...] = (0.0,)
) -> Callable[[Callable[[Task, float], Config | None]], Callable[[Task, float], Config | None]]:
    def add(fn: Callable[[Task, float], Config | None]) -> Callable[[Task, float], Config | None]:
        if name in OPERATORS:
            raise ValueError(f"duplicate operator {name}")
        OPERATORS[name] = Operator(name, category, description, fn, params)
        return fn

    return add


def _data(task: Task, *ops: tuple[str, float]) -> Config:
    return replace(task.base, data=(*task.base.data, *ops))


def _dense(task: Task) -> bool:
    """Real-valued feature inputs (not token ids)."""
    return task.family != "gru"


def _classification(task: Task) -> bool:
    return task.kind in ("multiclass", "binary")


def _torch(task: Task) -> bool:
    return task.framework == "torch"


# --- data ---------------------------------------------------------------------------------------------------


@operator("shuffle-inputs-apart", "data.no_signal", "inputs shuffled without their labels")
def _shuffle_apart(task: Task, p: float) -> Config | None:
    return _data(task, ("shuffle_inputs", 0.0))


@operator("change-labels", "data.no_signal", "a fraction of the labels moved to other rows", (0.8, 1.0))
def _change_labels(task: Task, p: float) -> Config | None:
    return _data(task, ("shuffle_labels", p))


@operator(
    "noisy-inputs", "data.no_signal", "Gaussian noise on train and test inputs, in feature stds", (3.0, 10.0)
)
def _noisy_inputs(task: Task, p: float) -> Config | None:
    return _data(task, ("input_noise", p)) if _dense(task) else None


@operator("single-label", "data.labels", "every training target is the same value")
def _single_label(task: Task, p: float) -> Config | None:
    return _data(task, ("single_label", 0.0))


@operator("labels-one-based", "data.labels", "0/1 targets shifted to 1/2 for a sigmoid output")
def _one_based(task: Task, p: float) -> Config | None:
    return _data(task, ("shift_labels", 1.0)) if task.kind in ("binary", "multilabel") else None


@operator("remove-data", "data.diversity", "keep only a small fraction of the training data", (0.01, 0.03))
def _remove_data(task: Task, p: float) -> Config | None:
    return _data(task, ("subsample", p))


@operator(
    "duplicate-samples", "data.diversity", "a few distinct samples repeated to fill the data set", (8.0, 20.0)
)
def _duplicate(task: Task, p: float) -> Config | None:
    return _data(task, ("duplicate", p))


@operator("unbalance", "data.imbalance", "keep a fraction of every class but the largest", (0.05, 0.01))
def _unbalance(task: Task, p: float) -> Config | None:
    return _data(task, ("unbalance", p)) if _classification(task) else None


@operator("unscaled-inputs", "data.inputs", "inputs in raw units, thousands far from zero", (1000.0,))
def _unscaled(task: Task, p: float) -> Config | None:
    return _data(task, ("scale", p)) if _dense(task) else None


@operator("unstandardised-inputs", "data.inputs", "the standardisation step left out")
def _unstandardised(task: Task, p: float) -> Config | None:
    return _data(task, ("unstandardise", 0.0)) if _dense(task) else None


@operator("integer-division", "data.inputs", "8-bit inputs divided by 255 with integer division")
def _int_div(task: Task, p: float) -> Config | None:
    return _data(task, ("int_div", 0.0)) if _dense(task) else None


@operator("nan-inputs", "data.inputs", "a few input values are NaN", (0.01,))
def _nan_inputs(task: Task, p: float) -> Config | None:
    return _data(task, ("nan_inputs", p)) if _dense(task) else None


@operator(
    "heldout-scaled-differently", "data.inputs", "held-out inputs scaled differently from training", (100.0,)
)
def _heldout_scaled(task: Task, p: float) -> Config | None:
    return _data(task, ("test_scale", p)) if _dense(task) else None


# --- model --------------------------------------------------------------------------------------------------


@operator("remove-activations", "model.capacity", "hidden activations replaced by the identity")
def _remove_activations(task: Task, p: float) -> Config | None:
    return replace(task.base, activation="linear")


@operator("bottleneck", "model.capacity", "the first hidden layer cut to one unit")
def _bottleneck(task: Task, p: float) -> Config | None:
    return replace(task.base, hidden=(1, *task.base.hidden[1:]))


@operator("remove-bias", "model.capacity", "every layer built with bias=False")
def _remove_bias(task: Task, p: float) -> Config | None:
    return replace(task.base, bias=False)


# An activation on the regression output that cannot reach the (standardised) targets.
for _act in ("relu", "sigmoid", "tanh"):

    def _head(task: Task, p: float, act: str = _act) -> Config | None:
        return replace(task.base, output_activation=act) if task.kind == "regression" else None

    operator(f"{_act}-regression-head", "model.output", f"{_act} on the regression output")(_head)


@operator("relu-on-logits", "model.output", "a ReLU after the output layer of a classifier")
def _relu_logits(task: Task, p: float) -> Config | None:
    return (
        replace(task.base, output_activation="relu") if task.kind == "multiclass" and _torch(task) else None
    )


@operator("softmax-one-unit", "model.output", "softmax over the single output unit, BCE on its 'probability'")
def _softmax_one_unit(task: Task, p: float) -> Config | None:
    if task.kind != "binary":
        return None
    return replace(task.base, output_activation="softmax", loss="bce")


@operator("softmax-wrong-axis", "model.output", "log-softmax over the batch axis (dim=0) with NLLLoss")
def _softmax_axis(task: Task, p: float) -> Config | None:
    if task.kind != "multiclass" or not _torch(task):
        return None
    return replace(task.base, output_activation="log_softmax_batch", loss="nll")


@operator("dead-relu", "model.dead_units", "first-layer bias set very negative: ReLUs never fire", (-20.0,))
def _dead_relu(task: Task, p: float) -> Config | None:
    return replace(task.base, first_bias=p) if task.family != "gru" else None


# tanh/sigmoid units pushed to their limits by a large bias.
for _act in ("tanh", "sigmoid"):

    def _sat(task: Task, p: float, act: str = _act) -> Config | None:
        return replace(task.base, activation=act, first_bias=20.0) if task.family != "gru" else None

    operator(f"saturated-{_act}", "model.saturation", f"{_act} units pushed to their limit by a bias of 20")(
        _sat
    )


@operator("sigmoid-activations", "model.saturation", "hidden activations changed to sigmoid")
def _sigmoid(task: Task, p: float) -> Config | None:
    return replace(task.base, activation="sigmoid") if task.family != "gru" else None


# --- initialisation -----------------------------------------------------------------------------------------


@operator("zero-init", "init.symmetry", "every weight and bias initialised to zero")
def _zero_init(task: Task, p: float) -> Config | None:
    return replace(task.base, init="zeros")


@operator("constant-init", "init.symmetry", "every weight initialised to the same constant", (0.05,))
def _constant_init(task: Task, p: float) -> Config | None:
    return replace(task.base, init="constant", init_std=p)


@operator("large-init", "init.scale", "weights drawn with a far too large std", (5.0, 50.0))
def _large_init(task: Task, p: float) -> Config | None:
    return replace(task.base, init="normal", init_std=p)


@operator("small-init", "init.scale", "weights drawn with a far too small std", (1e-5,))
def _small_init(task: Task, p: float) -> Config | None:
    return replace(task.base, init="normal", init_std=p)


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


def mutants(tasks: list[Task]) -> list[Mutant]:
    """Every (task, operator, parameter) that applies."""
    out = []
    for task in tasks:
        for op in OPERATORS.values():
            for p in op.params:
                cfg = op.mutate(task, p)
                if cfg is not None:
                    out.append(Mutant(task.name, op.name, p, op.category, cfg))
    return out
