"""The healthy base tasks of the fault zoo, each training in about a second on one CPU core."""

from __future__ import annotations

from dataclasses import dataclass

from deadpan.zoo.config import Config


@dataclass(frozen=True)
class Task:
    name: str
    #: "multiclass", "binary", "regression" or "multilabel".
    kind: str
    #: "mlp", "cnn" or "gru".
    family: str
    #: Key into :data:`deadpan.zoo.data.LOADERS`.
    data: str
    outputs: int
    base: Config
    description: str
    #: Kept out of every tuning step; its figures are reported separately.
    holdout: bool = False

    @property
    def framework(self) -> str:
        return self.base.framework

    @property
    def classes(self) -> int:
        return 2 if self.kind in ("binary", "multilabel") else self.outputs


def _task(
    name: str, kind: str, family: str, data: str, outputs: int, description: str, **cfg: object
) -> Task:
    holdout = bool(cfg.pop("holdout", False))
    return Task(name, kind, family, data, outputs, Config(task=name, **cfg), description, holdout)  # type: ignore[arg-type]


TASKS: dict[str, Task] = {
    t.name: t
    for t in [
        _task("digits-mlp", "multiclass", "mlp", "digits", 10, "8x8 digits, 10 classes, MLP", epochs=15),
        _task(
            "wine-mlp",
            "multiclass",
            "mlp",
            "wine",
            3,
            "wine, 3 classes, 178 samples, MLP (held out of tuning)",
            hidden=(32, 32),
            batch_size=16,
            epochs=30,
            holdout=True,
        ),
        _task(
            "fraud-binary",
            "binary",
            "mlp",
            "fraud",
            1,
            "generated binary task with 9:1 imbalance, one logit, BCE",
            hidden=(32, 32),
            epochs=15,
        ),
        _task(
            "friedman-regression",
            "regression",
            "mlp",
            "friedman",
            1,
            "Friedman #1 non-linear regression, SGD with momentum, MSE",
            optimizer="sgd",
            momentum=0.9,
            lr=0.01,
            epochs=30,
        ),
        _task(
            "digits-cnn",
            "multiclass",
            "cnn",
            "digits",
            10,
            "small CNN on 8x8 digit images",
            hidden=(16, 32),
            optimizer="sgd",
            momentum=0.9,
            lr=0.05,
            epochs=10,
        ),
        _task(
            "marker-gru",
            "multiclass",
            "gru",
            "sequences",
            3,
            "Embedding + GRU: which marker token occurs most in a sequence",
            hidden=(32, 32),
            lr=5e-3,
            epochs=6,
        ),
        _task(
            "multilabel-mlp",
            "multilabel",
            "mlp",
            "multilabel",
            5,
            "generated 5-label multi-label task, BCE over 5 logits",
            epochs=20,
        ),
        _task(
            "keras-digits-mlp",
            "multiclass",
            "mlp",
            "digits",
            10,
            "Keras twin of digits-mlp: softmax output, sparse categorical cross-entropy",
            framework="keras",
            output_activation="softmax",
            epochs=15,
        ),
        _task(
            "keras-fraud-binary",
            "binary",
            "mlp",
            "fraud",
            1,
            "Keras twin of fraud-binary: sigmoid output, binary cross-entropy",
            framework="keras",
            output_activation="sigmoid",
            hidden=(32, 32),
            epochs=15,
        ),
        _task(
            "keras-friedman-regression",
            "regression",
            "mlp",
            "friedman",
            1,
            "Keras twin of friedman-regression",
            framework="keras",
            optimizer="sgd",
            momentum=0.9,
            lr=0.01,
            epochs=30,
        ),
    ]
}
