"""The Keras phrasebook: each change said in Keras terms (``model.compile``, ``layers``, ``model.fit``).

The optimizer, training-loop and budget phrases are in its second half, :mod:`._keras_training`.
"""

from __future__ import annotations

from deadpan.findings import Change
from deadpan.phrasebook import _keras_training
from deadpan.phrasebook._common import (
    Phrase,
    Word,
    num,
    shape,
    target_scaling,
    weighting,
)

#: Keras loss name -> the loss class to construct with ``from_logits=True``.
LOSS_CLASSES: dict[str, str] = {
    "binary_crossentropy": "BinaryCrossentropy",
    "binary_focal_crossentropy": "BinaryFocalCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "categorical_focal_crossentropy": "CategoricalFocalCrossentropy",
}


def output_layer(units: int | str, from_logits: bool | None) -> str:
    """The classification head for ``units`` classes: a softmax unless the loss takes logits."""
    return f"layers.Dense({units})" if from_logits else f'layers.Dense({units}, activation="softmax")'


def _weight_classes(c: Change) -> str:
    if c.proposed is not None:
        spelled = ", ".join(f"{i}: {num(w)}" for i, w in enumerate(c.proposed))
        loss_fix = f"`model.fit(..., class_weight={{{spelled}}})`"
    else:
        loss_fix = (
            "`model.fit(..., class_weight=dict(enumerate(n / (C * counts))))` (class "
            f"{c.params['dominant']} gets {num(c.params['dominant_weight'])})"
        )
    sampler_fix = (
        "or oversample the rare classes: repeat their rows in `x_train`/`y_train` (e.g. with `np.repeat`) "
        "and shuffle before `model.fit`"
    )
    already = "the classes are already weighted (`class_weight`/`sample_weight`)"
    return weighting(c, "the classes", already, loss_fix, sampler_fix)


def _nonfinite(c: Change) -> str:
    return (
        "clean the data before training: locate the values with `np.isnan(x).any()` / `np.isinf(x)`, "
        "impute missing inputs with training-set statistics (`sklearn.impute.SimpleImputer`, "
        "`np.nan_to_num`), drop samples whose target is missing, and guard `log`/division in preprocessing "
        "(`np.log1p`, `x / (std + 1e-8)`)"
    )


def _rescale_inputs(c: Change) -> str:
    if c.params["image_like"]:
        return (
            'scale the pixels to [0, 1]: `x = x.astype("float32") / 255.` (or '
            "`layers.Rescaling(1 / 255)` as the model's first layer)"
        )
    return (
        "standardize every feature with the training set's statistics: a "
        "`keras.layers.Normalization()` layer as the model's first layer, adapted on the training "
        "data (`norm.adapt(x_train)`), or standardise the arrays: `mean, std = x_train.mean(0), "
        "x_train.std(0) + 1e-8; x = (x - mean) / std` (the same mean/std for held-out data)"
    )


def _map_class_ids(c: Change) -> str:
    wider = output_layer(c.params["units"], c.params["from_logits"])
    return (
        f"map the labels to 0..{c.params['last']} (`sklearn.preprocessing.LabelEncoder`), or give "
        f"the last layer one unit per class: `{wider}`"
    )


def _reshape(c: Change) -> str:
    inp, tgt = c.params["input_shape"], c.params["target_shape"]
    shapes = f"the output is {shape(inp)} and the targets {shape(tgt)}"
    if len(inp) == len(tgt) and inp[:-1] == tgt[:-1] and inp[-1] == 1 and tgt[-1] > 1:
        return (
            f"give the last layer one unit per target column, `layers.Dense({tgt[-1]})`, or pass one target "
            f"value per sample, `y.reshape(-1, 1)`: {shapes}"
        )
    return (
        "give the model output and the targets the same shape: reshape the targets (`y.reshape(-1, 1)` for "
        "one value per sample) or give the last layer one unit per target value (`layers.Dense(k)`): "
        + shapes
    )


def _one_unit_loss(c: Change) -> str:
    n, name = c.params["n_classes"], c.params["loss"]
    classes = n if n is not None and n > 2 else "C"
    head = output_layer(classes, c.params["from_logits"])
    return (
        'for a binary problem use `layers.Dense(1, activation="sigmoid")` with '
        '`loss="binary_crossentropy"` and 0/1 targets; '
        + (f"for {classes} classes" if classes != "C" else "for C > 2 classes")
        + f" give the last layer one unit per class, `{head}`, and keep `{name}`"
    )


def _loss_from_logits(c: Change) -> str:
    binary = c.params["binary"]
    cls = LOSS_CLASSES.get(c.params["loss_id"], "BinaryCrossentropy" if binary else "CategoricalCrossentropy")
    units = c.params["units"]
    act = "sigmoid" if binary else "softmax"
    dense = f'Dense({units if units is not None else "..."}, activation="{act}")'
    return (
        f"keep the output layer linear and tell the loss it receives logits: "
        f'`loss=keras.losses.{cls}(from_logits=True)`; or put `activation="{act}"` on the output layer '
        f"(`keras.layers.{dense}`) so that `{c.params['loss']}` receives probabilities"
    )


def _classify_ids(c: Change) -> str:
    n, shift = c.params["n_classes"], c.params["shift"]
    moved = f" (shifted to start at 0: `y - {shift:g}`)" if shift is not None else ""
    return (
        f"treat it as classification: give the last layer {n} units with a softmax, "
        f'`layers.Dense({n}, activation="softmax")`, compile with '
        f'`loss="sparse_categorical_crossentropy"` on the integer targets{moved} and predict with '
        "`model.predict(x).argmax(axis=-1)`"
    )


def _softmax_for_classes(c: Change) -> str:
    single = (
        f'use `activation="softmax"` on the output layer (`keras.layers.Dense({c.params["units"]}, '
        f'activation="softmax")`) with `{c.params["loss"]}`'
    )
    multi = 'keep the sigmoid and use `loss="binary_crossentropy"`'
    if c.params["multilabel"]:
        return f"for multi-label targets {multi}; if each example has exactly one class, {single}"
    return f"for one class per example {single}; if the targets are multi-label, {multi}"


def _widen(c: Change) -> str:
    act = c.params["activation"]
    keep = f', activation="{act}"' if act else ""
    kind = c.params["kind"] if c.params["recurrent"] else "Dense"
    return f"widen layer `{c.where}`: e.g. `layers.{kind}({c.proposed}{keep})`"


def _softmax_over_classes(c: Change) -> str:
    fix = (
        'use `layers.Softmax(axis=-1)` (the default, not `axis=0`) or `activation="softmax"` on the '
        "last `Dense`, so each sample's row sums to one"
    )
    if c.params["cross_entropy"]:  # from_logits=True: the loss applies the softmax itself
        return f"drop the softmax: `{c.params['loss']}` with `from_logits=True` applies it itself; " + fix
    return fix


def _output_head(c: Change) -> str:
    if c.params["one_unit_softmax"]:
        return 'use `layers.Dense(1, activation="sigmoid")` with `loss="binary_crossentropy"`'
    return 'end the model with `layers.Dense(k)` (no activation, i.e. `activation="linear"`)'


def _activation_place(name: str, kind: str, activation: str | None) -> str:
    """Where the softmax sits: a ``Dense(activation=...)`` shows as its layer's name and the argument."""
    if kind == "Activation" and "/" in name:
        return f'`{name.rsplit("/", 1)[0]}` (`activation="{activation}"`)'
    return f"`{name}` ({kind})"


PHRASES: dict[str, Phrase] = {
    # data
    "restore_inputs": (
        "find the step that erases the inputs: use `x / 255.` not `x // 255`, scale before casting to an "
        'integer dtype (`x.astype("float32") / 255.`), check every preprocessing step (a `tf.data` `map`, a '
        "generator) returns the sample (not a constant array), and that `model.fit` gets the inputs array as "
        "`x`"
    ),
    "weight_classes": _weight_classes,
    "more_distinct_data": (
        "train on more distinct data: check the arrays given to `model.fit` are not a few samples repeated "
        "(a slice or `np.tile` left from debugging), drop duplicates (`np.unique(x, axis=0, "
        "return_index=True)`), and add augmentation layers (`layers.RandomCrop`, `layers.RandomFlip`, "
        "`layers.GaussianNoise`) so repeats differ"
    ),
    "same_preprocessing": (
        "apply the same preprocessing to every split: fit the statistics on the training set and reuse them "
        "(`scaler.fit(x_train)`, then `scaler.transform(x_val)`), divide `x_val` by 255 too if `x_train` "
        "was, or move the scaling into the model (`layers.Rescaling(1 / 255)`, or "
        "`keras.layers.Normalization` adapted on `x_train`) so every split gets it"
    ),
    "pair_inputs_and_labels": (
        "check that inputs and labels are paired: shuffle them together with one index (`perm = "
        "np.random.permutation(len(x)); x, y = x[perm], y[perm]`, or let `model.fit(x, y, shuffle=True)` do "
        "it), that the labels are read from the right column/file, and that the features actually carry "
        "information about the target"
    ),
    "clean_noisy_labels": (
        "check the labels (a sample by hand, or a confusion matrix against a second annotator) and the "
        "inputs' noise; denoise or average repeated measurements, drop or relabel mislabelled examples, or "
        "add features that carry the signal. A larger model or longer training will only memorise the "
        "noise: regularise (`layers.Dropout(0.2)`, `kernel_regularizer=keras.regularizers.L2(1e-4)`) and "
        "stop early with `keras.callbacks.EarlyStopping(restore_best_weights=True)`"
    ),
    "clean_nonfinite_data": _nonfinite,
    "fix_label_pipeline": (
        "fix the label pipeline: read the targets from the right column/attribute, pass the labels as "
        "`model.fit(x, y)` (not a copy overwritten with `np.zeros_like(y)` or `y[0]`, nor a `tf.data` map "
        "that returns a fixed label), and check that filtering or splitting did not keep a single class "
        "(`np.unique(y_train, return_counts=True)`)"
    ),
    "shift_class_ids": (
        "the labels look 1-based: use `y = y - 1` so they run 0..C-1 (or encode them with "
        "`sklearn.preprocessing.LabelEncoder`)"
    ),
    "map_class_ids": _map_class_ids,
    "mark_unlabeled": (
        "map the labels to 0..{last} (`sklearn.preprocessing.LabelEncoder`); mark unlabeled samples with "
        "`keras.losses.SparseCategoricalCrossentropy(ignore_class=-1)` rather than another negative value"
    ),
    "binary_targets_from_signs": "the targets look like -1/+1 labels: use `y = (y + 1) / 2` so they are 0/1",
    "binary_targets_from_masks": (
        'map the targets to {{0, 1}}: `y = y / 255.` for 0/255 masks, `y = (y > 0).astype("float32")` for '
        "any other positive label"
    ),
    "binary_targets_from_labels": (
        'map the targets to {{0, 1}} (e.g. `y = (y == positive_label).astype("float32")`)'
    ),
    "rescale_inputs": _rescale_inputs,
    # init
    "standard_init": (
        "remove the manual weight scaling (`keras.initializers.RandomNormal(stddev=1.0)`, `set_weights` with "
        'scaled arrays) and keep the default `kernel_initializer="glorot_uniform"` (tanh/sigmoid layers), or '
        'use `kernel_initializer="he_normal"` for ReLU layers'
    ),
    "break_symmetry": (
        'remove `kernel_initializer="zeros"`/`"ones"`/`keras.initializers.Constant(...)` (or a '
        "`set_weights` with equal rows) on `{where}` and keep the default "
        '`kernel_initializer="glorot_uniform"`, or use `kernel_initializer="he_normal"`; biases may '
        "stay zero"
    ),
    # loss
    "reshape_to_match": _reshape,
    "binary_loss_on_one_unit": _one_unit_loss,
    "shrink_initial_outputs": (
        'scale the initial outputs down: keep the default `kernel_initializer="glorot_uniform"` (or '
        '`"he_normal"`) instead of a large custom one, start the output layer small with '
        "`kernel_initializer=keras.initializers.RandomNormal(stddev=0.01)` and "
        '`bias_initializer="zeros"` (for imbalanced classes '
        "`bias_initializer=keras.initializers.Constant(np.log(priors))`), and standardise the inputs"
    ),
    "fresh_init": (
        "check the model starts from a fresh initialisation (no `model.load_weights(...)` of a trained "
        "checkpoint, nor a model already trained by an earlier `fit`, before this run), and that `model.fit` "
        "gets the real targets"
    ),
    "loss_from_logits": _loss_from_logits,
    "add_log_softmax": (
        'end the model in `activation="softmax"` and use `loss="sparse_categorical_crossentropy"`, or keep '
        "the outputs raw and pass `from_logits=True` to the loss, which then normalises them itself"
    ),
    "drop_output_sigmoid": (
        'drop `from_logits=True` (`loss="{loss}"` takes the sigmoid outputs as probabilities), or remove '
        '`activation="sigmoid"` from the last layer and keep `from_logits=True`'
    ),
    "classify_class_ids": _classify_ids,
    "softmax_for_classes": _softmax_for_classes,
    "drop_output_softmax": (
        "drop `from_logits=True` (the default `from_logits=False` takes the softmax outputs as "
        'probabilities), or remove `activation="softmax"` from the last layer and keep '
        "`from_logits=True`"
    ),
    # model
    "widen_layer": _widen,
    "linear_regression_head": lambda c: (
        "remove the activation from the regression head and end in a plain `layers.Dense(1)` (no "
        "`activation=`), " + target_scaling(c.params["head"])
    ),
    "revive_relu_units": (
        'lower the learning rate (e.g. 10x), initialise with `kernel_initializer="he_normal"` and zero '
        'biases (the default), standardize the inputs, or use `activation="leaky_relu"` instead of `"relu"`'
    ),
    "add_nonlinearity": (
        'give every hidden layer a non-linearity, `layers.Dense(64, activation="relu")`, e.g. '
        '`keras.Sequential([layers.Dense(64, activation="relu"), layers.Dense({width})])` (keep the '
        "output layer's own activation)"
    ),
    "remove_output_activation": lambda c: (
        f"remove the activation from the output layer (`Dense(units)` with no `activation`, not "
        f'`activation="{c.current}"`): the loss with `from_logits=True` applies the '
        f"{'sigmoid' if c.params['sigmoid'] else 'softmax'} itself"
    ),
    "unsaturate_units": (
        "standardize the inputs (`(x - mean) / std` or a `keras.layers.Normalization` layer), keep the "
        'default `kernel_initializer="glorot_uniform"` instead of large weights, add '
        '`layers.BatchNormalization()` before the activation, or use `activation="relu"` with '
        '`kernel_initializer="he_normal"` in hidden layers'
    ),
    "binary_head_for_one_unit": lambda c: (
        'for a binary target use `layers.Dense(1, activation="sigmoid")` with '
        '`loss="binary_crossentropy"`; or use one unit per class, '
        f'`layers.Dense({c.params["n_classes"] or "C"}, activation="softmax")`, with '
        '`loss="sparse_categorical_crossentropy"` (integer labels)'
    ),
    "softmax_over_classes": _softmax_over_classes,
    # the fix catalog's advice
    "binary_loss": 'compile with `loss="binary_crossentropy"` on `layers.Dense(1, activation="sigmoid")`',
    "logits_into_loss": (
        "let the loss see logits: remove the last layer's softmax/sigmoid activation and compile "
        "with `from_logits=True` (e.g. `keras.losses.SparseCategoricalCrossentropy(from_logits="
        "True)`), or keep the activation and a loss with `from_logits=False`"
    ),
    "match_target_shape": (
        "give `fit` targets of the output's shape: `y.reshape(-1, 1)` for one output unit (for "
        "one-hot targets of two classes, the class ids `y.argmax(-1)`, or two output units with a "
        "softmax)"
    ),
    "nonlinear_wider": (
        'add hidden layers with a non-linearity: `layers.Dense({hidden}, activation="relu")` before '
        "the output layer"
    ),
    "output_head": _output_head,
    "reinitialize": (
        'drop the custom initialisers: keep `kernel_initializer="glorot_uniform"` (the default), or '
        '`"he_normal"` for layers with `activation="relu"`, and `bias_initializer="zeros"`'
    ),
    "relu_activations": 'use `activation="relu"` with `kernel_initializer="he_normal"` in the hidden layers',
    "repair_labels": "give `fit` class ids 0..C-1 (or 0/1 targets for a binary loss)",
    "resample_classes": (
        "pass `class_weight={{c: n / (k * n_c)}}` to `model.fit` (n rows, k classes, n_c rows of class c)"
    ),
    "standardize_inputs": (
        "standardize with the training statistics: `x = (x - mean) / std` (`mean`, `std` over the "
        "training rows), or put `layers.Normalization()` first and call `.adapt(x_train)`"
    ),
}

#: The optimizer, the training loop and its budget.
PHRASES.update(_keras_training.PHRASES)

WORDS: dict[str, Word] = {
    #: The loss as a Keras user wrote it: its name in ``compile``.
    "loss": lambda loss_fn, loss: loss,
    "logits_loss": lambda loss_fn, loss: f"`{loss}` with `from_logits=True`",
    "unbounded_binary_loss": "the loss keeps falling as the outputs are pushed to their limit",
    "one_unit_loss_effect": (
        "Keras normalises the class axis (the last) to sum to 1, so the single unit's probability is "
        "always 1, the loss is 0 for every input, its gradient is exactly zero and nothing learns."
    ),
    "unseen_activations": (
        "(Activations applied in a subclassed model's `call`, e.g. `keras.ops.relu`, are not seen.)"
    ),
    "activation_place": _activation_place,
    "batch_axis": "axis 0",
    "batch_source": lambda loader, size: f"from a dataset of {size} samples",
    "l2_penalty": lambda l2: f"`keras.regularizers.l2({l2 / 2:g})` on the weights",
}
