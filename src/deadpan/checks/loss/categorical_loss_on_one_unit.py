"""DP303 categorical-loss-on-one-unit."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.checks.symptoms import is_keras, keras_output_layer, loss_name
from deadpan.evidence import Evidence
from deadpan.findings import Finding

#: Losses that take a softmax (or expect log-probabilities) over the class axis. ``cross_entropy_probs`` is
#: Keras' categorical cross-entropy of probabilities, which normalises each row to sum to 1 first.
CATEGORICAL_LOSSES: dict[str, str] = {
    "cross_entropy": "CrossEntropyLoss",
    "nll_loss": "NLLLoss",
    "cross_entropy_probs": "categorical_crossentropy",
}


@register
class CategoricalLossOnOneUnit(Check):
    """A categorical loss over an output with a single unit.

    What it detects:
        ``CrossEntropyLoss`` / ``F.cross_entropy`` (or ``NLLLoss``) called on an output whose class axis has
        one unit, e.g. ``nn.Linear(h, 1)`` followed by ``CrossEntropyLoss`` for a binary problem.

    Why it makes the output constant:
        A softmax over one unit is always 1, so log-softmax is always 0: the loss is the same constant for
        every input and every weight, its gradient is zero, and nothing in the model learns. The output stays
        at whatever the initialisation gave.

    Fix:
        For a binary problem keep one output unit and use ``nn.BCEWithLogitsLoss()`` with float targets
        (``loss_fn(out, y.float().view(-1, 1))``); for C classes give the last layer C output units
        (``nn.Linear(h, C)``) and keep ``CrossEntropyLoss``.
    """

    code = "DP303"
    name = "categorical-loss-on-one-unit"
    category = "loss.mismatch"
    requires = ("loss",)

    def judge(self, ev: Evidence) -> Finding | None:
        loss = ev.loss
        assert loss is not None
        cls = CATEGORICAL_LOSSES.get(loss.function)
        if cls is None or not loss.input_shape:
            return None
        # PyTorch's class axis is dim 1 for batched inputs ([N, C] or [N, C, d1, ...]), dim 0 unbatched;
        # Keras' is the last axis.
        keras = is_keras(ev)
        class_axis = -1 if keras else (1 if len(loss.input_shape) >= 2 else 0)
        if loss.input_shape[class_axis] != 1:
            return None
        n_classes = ev.task.n_classes if ev.task is not None else None
        if n_classes is None and loss.target_is_integer:
            n_classes = int(loss.target_max) + 1
        if keras:
            return self._keras(ev, n_classes)
        if n_classes is not None and n_classes > 2:
            units = (
                f"give the last layer {n_classes} output units (`nn.Linear(hidden, {n_classes})`) and keep "
                f"`{cls}`"
            )
        else:
            units = "for C > 2 classes give the last layer C output units (`nn.Linear(hidden, C)`)"
        return self.finding(
            message=f"`{cls}` is computed over an output with one unit (shape {list(loss.input_shape)}): "
            "log-softmax over a single unit is always 0, so the loss is constant, its gradient is zero and "
            "nothing learns.",
            fix="for a binary problem use `nn.BCEWithLogitsLoss()` on the single output unit with float "
            f"targets, `loss_fn(out, y.float().view(-1, 1))`; {units}",
            evidence={
                "loss": loss.function,
                "input_shape": loss.input_shape,
                "class_axis_units": 1,
                "n_classes": n_classes,
            },
            strength=0.95,
        )

    def _keras(self, ev: Evidence, n_classes: int | None) -> Finding:
        """The finding in Keras terms: the single output is normalised to 1, so the loss is exactly 0."""
        loss = ev.loss
        assert loss is not None
        name = loss_name(ev)
        c = n_classes if n_classes is not None and n_classes > 2 else "C"
        head = keras_output_layer(c, loss.from_logits)
        return self.finding(
            message=f"`{name}` is computed over an output with one unit (shape {list(loss.input_shape)}): "
            "Keras normalises the class axis (the last) to sum to 1, so the single unit's probability is "
            "always 1, the loss is 0 for every input, its gradient is exactly zero and nothing learns.",
            fix='for a binary problem use `layers.Dense(1, activation="sigmoid")` with '
            '`loss="binary_crossentropy"` and 0/1 targets; '
            + (f"for {c} classes" if c != "C" else "for C > 2 classes")
            + f" give the last layer one unit per class, `{head}`, and keep `{name}`",
            evidence={
                "loss": loss.function,
                "input_shape": loss.input_shape,
                "class_axis_units": 1,
                "n_classes": n_classes,
            },
            strength=0.95,
        )
