"""The PyTorch phrasebook: each change said in plain PyTorch (``torch.optim``, ``nn``, a hand-written loop).

The optimizer, training-loop and budget phrases are in its second half, :mod:`._torch_training`. The
Lightning and Hugging Face books fall back on this one for everything they do not say differently.
"""

from __future__ import annotations

from deadpan.findings import Change
from deadpan.phrasebook import _torch_training
from deadpan.phrasebook._common import (
    Phrase,
    Word,
    num,
    shape,
    target_scaling,
    weighting,
)

#: The ``torch.nn`` loss class a user most likely wrote for each loss function deadpan records.
LOSS_CLASSES: dict[str, str] = {
    "cross_entropy": "CrossEntropyLoss",
    "nll_loss": "NLLLoss",
    "cross_entropy_probs": "categorical_crossentropy",
    "mse_loss": "MSELoss",
    "l1_loss": "L1Loss",
    "smooth_l1_loss": "SmoothL1Loss",
    "huber_loss": "HuberLoss",
    "binary_cross_entropy": "BCELoss",
    "binary_cross_entropy_with_logits": "BCEWithLogitsLoss",
}


def loss_class(loss_fn: str, loss: str = "the loss") -> str:
    """The ``torch.nn`` class of a loss function, else the loss as the user wrote it."""
    return LOSS_CLASSES.get(loss_fn, loss)


def _weight_classes(c: Change) -> str:
    p = c.params
    kind, loss_fn, pos = p["kind"], p["loss_fn"], num(p["pos_weight"])
    if kind == "binary" and loss_fn == "binary_cross_entropy_with_logits":
        loss_fix = f"`nn.BCEWithLogitsLoss(pos_weight=torch.tensor([{pos}]))`"
    elif kind == "binary" and loss_fn == "binary_cross_entropy":
        loss_fix = f"drop the final sigmoid and use `nn.BCEWithLogitsLoss(pos_weight=torch.tensor([{pos}]))`"
    elif c.proposed is not None:
        spelled = ", ".join(num(w) for w in c.proposed)
        loss_fix = f"`nn.CrossEntropyLoss(weight=torch.tensor([{spelled}]))`"
    else:
        loss_fix = (
            "`nn.CrossEntropyLoss(weight=torch.tensor(n / (C * counts), dtype=torch.float))` (class "
            f"{p['dominant']} gets {num(p['dominant_weight'])})"
        )
    sampler_fix = (
        "or oversample the rare classes: `sampler = WeightedRandomSampler(class_weight[y_train], "
        "num_samples=len(y_train))` with `DataLoader(..., sampler=sampler)` (no `shuffle=True`)"
    )
    return weighting(c, "the loss", "the loss is already weighted", loss_fix, sampler_fix)


def _nonfinite(c: Change) -> str:
    return (
        "clean the data before training: locate the values with `torch.isnan(x).any()` / `np.isinf(x)`, "
        "impute missing inputs with training-set statistics (`sklearn.impute.SimpleImputer`, "
        "`np.nan_to_num`), drop samples whose target is missing, and guard `log`/division in preprocessing "
        "(`np.log1p`, `x / (std + 1e-8)`)"
    )


def _rescale_inputs(c: Change) -> str:
    if c.params["image_like"]:
        return (
            "scale the pixels to [0, 1]: `x = x.float() / 255.` (or `transforms.ToTensor()`), then "
            "optionally `transforms.Normalize(mean, std)` with the training set's channel statistics"
        )
    return (
        "standardize every feature with the training set's statistics: `mean, std = x_train.mean(0), "
        "x_train.std(0) + 1e-8; x = (x - mean) / std` (apply the same mean/std to held-out data), or "
        "`sklearn.preprocessing.StandardScaler().fit(x_train)`"
    )


def _reshape(c: Change) -> str:
    inp, tgt = c.params["input_shape"], c.params["target_shape"]
    if len(inp) == len(tgt) + 1 and inp[-1] == 1 and inp[:-1] == tgt:
        return (
            "squeeze the output's last axis, `loss_fn(out.squeeze(-1), y)`, or give the target one, "
            f"`y.view(-1, 1)`: the output is {shape(inp)} and the target {shape(tgt)}"
        )
    if len(tgt) == len(inp) + 1 and tgt[-1] == 1 and tgt[:-1] == inp:
        return (
            f"squeeze the target's last axis, `loss_fn(out, y.squeeze(-1))`: the output is {shape(inp)} "
            f"and the target {shape(tgt)}"
        )
    cls = loss_class(c.params["loss_fn"], c.params["loss"])
    return (
        f"give the output and the target the same shape before `{cls}`, e.g. `loss_fn(out, y.view_as(out))` "
        f"once the model has one output unit per target value: the output is {shape(inp)} and the target "
        f"{shape(tgt)}"
    )


def _one_unit_loss(c: Change) -> str:
    n = c.params["n_classes"]
    if n is not None and n > 2:
        cls = loss_class(c.params["loss_fn"], c.params["loss"])
        units = f"give the last layer {n} output units (`nn.Linear(hidden, {n})`) and keep `{cls}`"
    else:
        units = "for C > 2 classes give the last layer C output units (`nn.Linear(hidden, C)`)"
    return (
        "for a binary problem use `nn.BCEWithLogitsLoss()` on the single output unit with float targets, "
        f"`loss_fn(out, y.float().view(-1, 1))`; {units}"
    )


def _loss_from_logits(c: Change) -> str:
    if c.params["binary"]:
        return (
            "pass the raw output to `nn.BCEWithLogitsLoss()` (it applies the sigmoid itself, stably); or end "
            "the model in `nn.Sigmoid()`/`torch.sigmoid` so that `nn.BCELoss` receives probabilities"
        )
    return (
        "pass the raw output (logits) to `nn.CrossEntropyLoss()`, which applies log-softmax itself; or end "
        "the model in `nn.Softmax(dim=1)` and use `nn.NLLLoss()` on `torch.log(probs)`"
    )


def _classify_ids(c: Change) -> str:
    n, shift = c.params["n_classes"], c.params["shift"]
    moved = f" (shifted to start at 0: `y - {shift:g}`)" if shift is not None else ""
    return (
        f"treat it as classification: give the last layer {n} output units "
        f"(`nn.Linear(hidden, {n})`), use `nn.CrossEntropyLoss()` with integer targets "
        f"`loss_fn(out, y.long())`{moved} and predict with `out.argmax(dim=1)`"
    )


def _softmax_for_classes(c: Change) -> str:
    single = (
        "drop the final sigmoid and use `nn.CrossEntropyLoss()` on the logits (softmax is applied by "
        "the loss)"
    )
    multi = "drop the final sigmoid and use `nn.BCEWithLogitsLoss()` on the logits"
    if c.params["multilabel"]:
        return f"for multi-label targets {multi}; if each example has exactly one class, {single}"
    return f"for one class per example {single}; if the targets are multi-label, {multi}"


def _drop_softmax(c: Change) -> str:
    ce = c.params["loss_fn"] == "cross_entropy"
    fn, expects = ("CrossEntropyLoss", "logits") if ce else ("NLLLoss", "log-probabilities")
    return f"remove the final `nn.Softmax`/`F.softmax` from the model: `{fn}` expects {expects}" + (
        " (or use `torch.log` of the probabilities with `NLLLoss`)" if fn == "NLLLoss" else ""
    )


def _widen(c: Change) -> str:
    width = c.proposed
    call = (
        f"nn.{c.params['kind']}(input_size, hidden_size={width}, batch_first=True)"
        if c.params["recurrent"]
        else f"nn.Linear(in_features, {width})"
    )
    return f"widen layer `{c.where}`: e.g. `{call}` and `in_features={width}` in the layer after it"


def _remove_output_activation(c: Change) -> str:
    sigmoid = c.params["sigmoid"]
    return (
        f"remove `{c.where}` ({c.current}) after the last layer and pass the raw outputs to "
        f"the loss: `{'BCEWithLogitsLoss' if sigmoid else 'CrossEntropyLoss'}` applies the "
        f"{'sigmoid' if sigmoid else 'softmax'} itself"
    )


def _softmax_over_classes(c: Change) -> str:
    if c.params["log_space"]:
        return (
            "use `nn.LogSoftmax(dim=1)` (or `F.log_softmax(x, dim=-1)`) so each sample's row is normalised "
            "over its classes; or drop it and pass the logits to `nn.CrossEntropyLoss` instead of "
            "`nn.NLLLoss`"
        )
    fix = "use `nn.Softmax(dim=1)` (or `F.softmax(x, dim=-1)`) so each sample's row sums to one"
    if c.params["cross_entropy"]:
        return "drop the softmax: `nn.CrossEntropyLoss` applies log-softmax over the classes itself; " + fix
    return fix + "; or drop it and use `nn.CrossEntropyLoss` on the logits"


def _output_head(c: Change) -> str:
    if c.params["one_unit_softmax"]:
        return (
            "use `nn.Sigmoid()` on the single output unit (or drop it and train with "
            "`nn.BCEWithLogitsLoss()`)"
        )
    return "end the model with the last `nn.Linear` (remove the activation after it)"


PHRASES: dict[str, Phrase] = {
    # data
    "restore_inputs": (
        "find the step that erases the inputs: use `x / 255.` not `x // 255`, scale before casting to an "
        "integer dtype (`x.float() / 255.`), check every transform returns the sample (not a constant "
        "tensor), and that the model is called on the batch's inputs"
    ),
    "weight_classes": _weight_classes,
    "more_distinct_data": (
        "train on more distinct data: check the dataset is not a few samples repeated (a `Subset` or slice "
        "left from debugging), drop duplicates (`np.unique(x, axis=0, return_index=True)`), and add "
        "augmentation (`transforms.RandomCrop`, `transforms.RandomHorizontalFlip`, input noise) so repeats "
        "differ"
    ),
    "same_preprocessing": (
        "apply the same preprocessing to every split: fit the statistics on the training set and reuse them "
        "(`scaler.fit(x_train)`, then `scaler.transform(x_test)`), and put the same `/ 255.` / "
        "`transforms.Normalize(mean, std)` in the test transform as in the training one"
    ),
    "pair_inputs_and_labels": (
        "check that inputs and labels are paired: shuffle them together with one index (`perm = "
        "torch.randperm(len(x)); x, y = x[perm], y[perm]`, or `TensorDataset(x, y)` with `DataLoader(..., "
        "shuffle=True)`), that the labels are read from the right column/file, and that the features "
        "actually carry information about the target"
    ),
    "clean_noisy_labels": (
        "check the labels (a sample by hand, or a confusion matrix against a second annotator) and the "
        "inputs' noise; denoise or average repeated measurements, drop or relabel mislabelled examples, or "
        "add features that carry the signal. A larger model or longer training will only memorise the "
        "noise: regularise (`weight_decay=1e-4`, `nn.Dropout(0.2)`) and stop early on a held-out score"
    ),
    "clean_nonfinite_data": _nonfinite,
    "fix_label_pipeline": (
        "fix the label pipeline: read the targets from the right column/attribute, do not overwrite `y` in "
        "the loop (e.g. `y = y[0]` or `torch.zeros_like(y)`), and check that filtering or splitting did not "
        "keep a single class (`np.unique(y_train, return_counts=True)`)"
    ),
    "shift_class_ids": (
        "the labels look 1-based: use `y = y - 1` so they run 0..C-1 (or encode them with "
        "`sklearn.preprocessing.LabelEncoder`)"
    ),
    "map_class_ids": (
        "map the labels to 0..{last} (`sklearn.preprocessing.LabelEncoder`), or give the last layer one unit "
        "per class: `nn.Linear(d, {units})`"
    ),
    "mark_unlabeled": (
        "map the labels to 0..{last} (`sklearn.preprocessing.LabelEncoder`); mark unlabeled samples with "
        "`ignore_index=-100` rather than another negative value"
    ),
    "binary_targets_from_signs": "the targets look like -1/+1 labels: use `y = (y + 1) / 2` so they are 0/1",
    "binary_targets_from_masks": (
        "map the targets to {{0, 1}}: `y = y / 255.` for 0/255 masks, `y = (y > 0).float()` for any other "
        "positive label"
    ),
    "binary_targets_from_labels": "map the targets to {{0, 1}} (e.g. `y = (y == positive_label).float()`)",
    "rescale_inputs": _rescale_inputs,
    # init
    "standard_init": (
        "remove the manual weight scaling (`* 100`, `nn.init.normal_(w, std=1.0)`, `* 1e-4`) and keep the "
        'default init, or use `nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")` '
        "(`nn.init.xavier_uniform_` for tanh/sigmoid layers)"
    ),
    "break_symmetry": (
        "remove `nn.init.zeros_`/`nn.init.constant_` (or `.weight.data.fill_(...)`) on `{where}.weight` and "
        'keep the default init, or use `nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")`; biases '
        "may stay zero"
    ),
    # loss
    "reshape_to_match": _reshape,
    "binary_loss_on_one_unit": _one_unit_loss,
    "shrink_initial_outputs": (
        "scale the initial outputs down: use the default initialisation (or "
        "`nn.init.kaiming_normal_`/`nn.init.xavier_uniform_`) instead of a large custom one, shrink "
        "the last layer with `model.fc.weight.data.mul_(0.01)` and `nn.init.zeros_(model.fc.bias)` "
        "(for imbalanced classes set the bias to the log class priors), and standardise the inputs"
    ),
    "fresh_init": (
        "check the model starts from a fresh initialisation (no `model.load_state_dict(...)` of a trained "
        "checkpoint before this run), and that the loss is computed on this model's raw logits and the real "
        "targets"
    ),
    "loss_from_logits": _loss_from_logits,
    "add_log_softmax": (
        "end the model in `nn.LogSoftmax(dim=1)` (or apply `F.log_softmax(out, dim=1)`) before "
        "`nn.NLLLoss`, or replace `nn.NLLLoss` by `nn.CrossEntropyLoss`, which applies log-softmax itself"
    ),
    "drop_output_sigmoid": (
        "remove the final `torch.sigmoid`/`nn.Sigmoid` from the model: `BCEWithLogitsLoss` applies "
        "the sigmoid itself (or keep the sigmoid and switch to `nn.BCELoss`, which is less stable)"
    ),
    "classify_class_ids": _classify_ids,
    "softmax_for_classes": _softmax_for_classes,
    "drop_output_softmax": _drop_softmax,
    # model
    "widen_layer": _widen,
    "linear_regression_head": lambda c: (
        "remove the activation from the regression head and end in a plain `nn.Linear(d, 1)`, "
        + target_scaling(c.params["head"])
    ),
    "revive_relu_units": (
        "lower the learning rate (e.g. 10x), initialise with `nn.init.kaiming_normal_(layer.weight, "
        'nonlinearity="relu")` and zero biases, standardize the inputs, or replace `nn.ReLU()` with '
        "`nn.LeakyReLU(0.01)`"
    ),
    "add_nonlinearity": (
        "add a hidden layer with a non-linearity: `nn.Sequential(nn.Linear(d, 64), nn.ReLU(), "
        "nn.Linear(64, {width}))`, or `F.relu` on each hidden layer's output in `forward`"
    ),
    "remove_output_activation": _remove_output_activation,
    "unsaturate_units": (
        "standardize the inputs (`(x - mean) / std`), initialise with "
        "`nn.init.xavier_uniform_(layer.weight)` instead of large weights, add `nn.BatchNorm1d` before the "
        "activation, or use `nn.ReLU()` in hidden layers"
    ),
    "binary_head_for_one_unit": (
        "for a binary target drop the softmax and use `nn.BCEWithLogitsLoss` on the single logit (or "
        "`nn.Sigmoid` with `nn.BCELoss`); or use two units, `nn.Linear(d, 2)`, with "
        "`nn.CrossEntropyLoss` and no softmax"
    ),
    "softmax_over_classes": _softmax_over_classes,
    # the fix catalog's advice
    "binary_loss": (
        "use `nn.BCEWithLogitsLoss()` on the one output unit with float targets: "
        "`loss_fn(out, y.float().view(-1, 1))`"
    ),
    "logits_into_loss": (
        "return logits from `forward` (remove the final `softmax`/`sigmoid`) and keep "
        "`nn.CrossEntropyLoss()` / `nn.BCEWithLogitsLoss()`; apply the softmax only when you need "
        "probabilities at inference. With `nn.NLLLoss`, end the model with `nn.LogSoftmax(dim=1)`"
    ),
    "match_target_shape": "match the shapes: `loss_fn(out, y.view_as(out))` or `loss_fn(out.squeeze(1), y)`",
    "nonlinear_wider": (
        "add a non-linearity between the Linear layers, e.g. `nn.Sequential(nn.Linear(d_in, {hidden}), "
        "nn.ReLU(), nn.Linear({hidden}, d_out))`"
    ),
    "output_head": _output_head,
    "reinitialize": (
        "remove the custom initialisation, or use `nn.init.kaiming_normal_(layer.weight, "
        'nonlinearity="relu")` for layers followed by ReLU and `nn.init.xavier_uniform_(layer.weight)` '
        "elsewhere, with `nn.init.zeros_(layer.bias)`"
    ),
    "relu_activations": (
        "use `nn.ReLU()` in the hidden layers with `nn.init.kaiming_normal_(layer.weight, "
        'nonlinearity="relu")`; or keep sigmoid/tanh and add `nn.BatchNorm1d` before each'
    ),
    "repair_labels": "map the targets to what the loss takes: class ids 0..C-1, or 0/1 for a binary loss",
    "resample_classes": (
        "weight the loss by inverse class frequency (`nn.CrossEntropyLoss(weight=w)` with "
        "`w = n / (k * counts)`, or `pos_weight` in `BCEWithLogitsLoss`), or sample with "
        "`WeightedRandomSampler(1 / counts[y], num_samples=len(y))`"
    ),
    "standardize_inputs": (
        "standardize with the training statistics: `x = (x - mean) / std` with `mean = x_train.mean(0)`, "
        "`std = x_train.std(0)` (apply the same to validation and test data), e.g. in the Dataset"
    ),
}

#: The optimizer, the training loop and its budget.
PHRASES.update(_torch_training.PHRASES)

WORDS: dict[str, Word] = {
    #: The loss as a PyTorch user wrote it: its ``torch.nn`` class.
    "loss": loss_class,
    #: A loss that takes logits, named for the message.
    "logits_loss": lambda loss_fn, loss: f"`{loss_class(loss_fn, loss)}`",
    "unbounded_binary_loss": "the loss is unbounded below, so the logits run to infinity",
    "one_unit_loss_effect": (
        "log-softmax over a single unit is always 0, so the loss is constant, its gradient is zero and "
        "nothing learns."
    ),
    "unseen_activations": (
        "(Activations applied functionally in `forward`, e.g. `F.relu`, are not seen as layers.)"
    ),
    "activation_place": lambda name, kind, activation: f"`{name}` ({kind})",
    "batch_axis": "dim=0",
    "batch_source": lambda loader, size: (
        f"from a dataset of {size} samples" if loader else f"indexed from a tensor of {size} samples"
    ),
    "l2_penalty": lambda l2: f"a hand-written L2 penalty of {l2:g}",
}
