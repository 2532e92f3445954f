"""Operators on the data, the model and its initialisation."""

from __future__ import annotations

from dataclasses import replace

from deadpan.zoo.config import Config
from deadpan.zoo.operators.base import _classification, _data, _dense, _torch, operator
from deadpan.zoo.tasks import Task

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
