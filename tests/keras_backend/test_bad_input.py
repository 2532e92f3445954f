"""Bad input for Keras (spec: "Bad input"): models deadpan cannot fully read (not built, subclassed, several
inputs or outputs), data it cannot read yet (strings, ragged tensors), several ``fit`` calls and several
models in one script, and ``stop_on``.

Whatever the user hands deadpan, it answers with a report, a clear "not supported yet" where it cannot
read something, never a traceback from inside deadpan, and the user's training is what it would have been.
Runs once per backend (``KERAS_BACKEND``); the TensorFlow-only inputs are skipped on the others.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest

import deadpan
from deadpan.capture.live import CollapseWarning
from deadpan.findings import Report
from deadpan.keras import DeadpanCallback
from deadpan.script.autolog import run_callable

BACKEND = keras.backend.backend()
tensorflow_only = pytest.mark.skipif(
    BACKEND != "tensorflow",
    reason="string and ragged tensors reach a Keras model only on the TensorFlow backend",
)


def _data(n: int = 256) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8)).astype("float32")
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64")


def _mlp(name: str | None = None) -> Any:
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ],
        name=name,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    return model


def _no_internal_errors(report: Report | None) -> Report:
    assert report is not None
    assert report.internal_errors == (), f"{report.internal_errors}\n{report}"
    return report


def _not_supported(report: Report | None, what: str) -> None:
    """An inconclusive report that names what is not supported yet, in its summary and its missing list."""
    report = _no_internal_errors(report)
    assert report.verdict == "inconclusive", str(report)
    assert "not supported yet" in report.summary and what in report.summary, report.summary
    assert any("not supported yet" in m and what in m for m in report.missing), report.missing
    assert "Traceback" not in str(report)


def _weights(model: Any) -> list[np.ndarray]:
    return [np.array(keras.ops.convert_to_numpy(v)) for v in model.weights]


def _assert_same_training(make: Any, fit: Any) -> tuple[Report | None, Any]:
    """``fit(model, callbacks)`` on two fresh seeded models, plain and with a callback, ends identical;
    returns the callback's report and the model trained with it."""
    ends, losses = [], []
    cb = DeadpanCallback(print_report=False, probes=False)
    for callbacks in ([], [cb]):
        keras.utils.set_random_seed(0)
        model = make()
        history = fit(model, callbacks).history
        losses.append(list(history.values()))  # keys hold auto-numbered layer names for several outputs
        ends.append(_weights(model))
    assert losses[0] == losses[1]
    assert all(np.array_equal(a, b) for a, b in zip(*ends, strict=True))
    return cb.report, model


# --- models deadpan cannot fully read ------------------------------------------------------------------


def test_model_that_is_not_built_is_inconclusive_with_a_clear_message() -> None:
    model = keras.Sequential([keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert not model.built
    x, y = _data()
    report = _no_internal_errors(deadpan.diagnose(model, x, y))
    assert report.verdict == "inconclusive", str(report)
    assert "not built" in report.summary or "built model" in report.summary, report.summary
    assert any("built" in m for m in report.missing), report.missing
    assert not model.built  # deadpan did not build it either


def test_model_built_by_fit_still_has_initial_weights() -> None:
    # No Input: on TensorFlow the model is built inside the first train step, after on_train_begin.
    x, y = _data()
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    cb = DeadpanCallback(print_report=False, probes=False)
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[cb])
    assert cb.run is not None and cb.run.initial_values is not None
    final = _weights(model)
    assert len(cb.run.initial_values) == len(final)
    assert any(not np.array_equal(a, b) for a, b in zip(cb.run.initial_values, final, strict=True))
    assert _no_internal_errors(cb.report).verdict != "inconclusive"


class Subclassed(keras.Model):  # type: ignore[misc]
    """A subclassed model without ``get_config``; its ``activation`` argument cannot be serialized, so
    ``clone_model`` (which the training probes need) cannot copy it."""

    def __init__(self, activation: Any) -> None:
        super().__init__()
        self.hidden = keras.layers.Dense(16, activation=activation)
        self.out = keras.layers.Dense(2, activation="softmax")

    def call(self, inputs: Any) -> Any:
        return self.out(self.hidden(inputs))


def _subclassed() -> Any:
    model = Subclassed(lambda t: keras.ops.relu(t))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    return model


def test_subclassed_model_without_get_config() -> None:
    x, y = _data()

    # Trained to convergence (8 epochs): two epochs leave the loss still falling, which deadpan rightly
    # reports as too short on some backends' initialisations.
    def fit(model: Any, callbacks: list[Any]) -> Any:
        return model.fit(x, y, batch_size=32, epochs=8, verbose=0, callbacks=callbacks)

    from_fit, model = _assert_same_training(_subclassed, fit)
    assert _no_internal_errors(from_fit).verdict == "healthy", str(from_fit)
    assert from_fit.metrics["steps"] == 64
    with pytest.raises(NotImplementedError):
        keras.models.clone_model(model)
    report = _no_internal_errors(deadpan.diagnose(model, x, y))
    assert report.verdict == "healthy", str(report)
    # The probes that train a copy are skipped; the others ran.
    probes = report.metrics["probes"]
    assert "overfit_one_batch" not in probes and "lr_range" not in probes, probes
    assert "input_dependence" in probes and "learnability" in probes, probes


def _two_inputs() -> Any:
    a, b = keras.Input((8,), name="a"), keras.Input((8,), name="b")
    h = keras.layers.Dense(16, activation="relu")(keras.layers.Concatenate()([a, b]))
    model = keras.Model([a, b], keras.layers.Dense(2, activation="softmax")(h))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    return model


def _two_outputs() -> Any:
    a = keras.Input((8,))
    h = keras.layers.Dense(16, activation="relu")(a)
    model = keras.Model(a, [keras.layers.Dense(2, activation="softmax")(h), keras.layers.Dense(1)(h)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=["sparse_categorical_crossentropy", "mse"])
    return model


def _judged(report: Report | None) -> None:
    """A report with a verdict (a model with several inputs or outputs is judged, not turned away)."""
    report = _no_internal_errors(report)
    assert report.verdict != "inconclusive", str(report)


def test_several_inputs_are_judged_and_training_is_unaffected() -> None:
    x, y = _data()
    x2 = x[::-1].copy()

    def fit(model: Any, callbacks: list[Any]) -> Any:
        return model.fit([x, x2], y, batch_size=32, epochs=2, verbose=0, callbacks=callbacks)

    from_fit, model = _assert_same_training(_two_inputs, fit)
    _judged(from_fit)
    _judged(deadpan.diagnose(model, [x, x2], y))
    _judged(deadpan.diagnose(model, {"a": x, "b": x2}, y))


def test_several_outputs_are_judged_on_the_first_and_training_is_unaffected() -> None:
    x, y = _data()
    targets = [y, x[:, :1]]

    def fit(model: Any, callbacks: list[Any]) -> Any:
        return model.fit(x, targets, batch_size=32, epochs=2, verbose=0, callbacks=callbacks)

    from_fit, model = _assert_same_training(_two_outputs, fit)
    _judged(from_fit)
    assert from_fit is not None and any("judges one output" in m for m in from_fit.missing), from_fit.missing
    _judged(deadpan.diagnose(model, x, targets))


def test_several_inputs_under_run() -> None:
    x, y = _data()

    def train() -> None:
        keras.utils.set_random_seed(0)
        _two_inputs().fit([x, x], y, batch_size=32, epochs=1, verbose=0)

    result = run_callable(train)
    assert result.status == 0 and result.ended == "finished"
    _judged(result.report)
    assert result.report.metrics["steps"] == 8


# --- data deadpan cannot read yet -------------------------------------------------------------------------


def _words(y: np.ndarray) -> list[str]:
    return [("good day" if v else "bad day") for v in y]


@tensorflow_only
@pytest.mark.parametrize("layer", ["StringLookup", "TextVectorization"])
def test_string_inputs_are_not_supported_yet(layer: str) -> None:
    import tensorflow as tf

    _, y = _data()
    words = _words(y)
    if layer == "StringLookup":
        head: list[Any] = [
            keras.layers.StringLookup(vocabulary=["good day", "bad day"], output_mode="one_hot")
        ]
        head.append(keras.layers.Flatten())
    else:
        vectorize = keras.layers.TextVectorization(max_tokens=8, output_sequence_length=2)
        vectorize.adapt(words)
        head = [vectorize, keras.layers.Embedding(8, 4), keras.layers.GlobalAveragePooling1D()]
    model = keras.Sequential(
        [keras.Input((1,), dtype="string"), *head, keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    x = tf.constant([[w] for w in words])
    cb = DeadpanCallback(print_report=False)
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[cb])
    assert len(history.history["loss"]) == 2  # training unaffected
    _not_supported(cb.report, "strings")
    _not_supported(deadpan.diagnose(model, x, y), "strings")


def test_strings_turned_into_ids_in_the_input_pipeline_are_handled() -> None:
    """The usual way on any backend: the string layer in a ``tf.data`` pipeline, the model sees ids."""
    tf = pytest.importorskip("tensorflow")
    _, y = _data()
    lookup = keras.layers.StringLookup(vocabulary=["good day", "bad day"])
    ds = (
        tf.data.Dataset.from_tensor_slices((_words(y), y)).batch(32).map(lambda w, t: (lookup(w[:, None]), t))
    )
    model = keras.Sequential(
        [
            keras.Input((1,), dtype="int64"),
            keras.layers.Embedding(3, 4),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(5e-2), loss="sparse_categorical_crossentropy")
    cb = DeadpanCallback(print_report=False, probes=False)
    model.fit(ds, epochs=2, verbose=0, shuffle=False, callbacks=[cb])
    report = _no_internal_errors(cb.report)
    assert report.verdict != "inconclusive", str(report)
    assert report.metrics["steps"] == 16


@tensorflow_only
@pytest.mark.parametrize("as_dataset", [False, True], ids=["tensor", "tf.data"])
def test_ragged_inputs_are_not_supported_yet(as_dataset: bool) -> None:
    import tensorflow as tf

    n = 64
    y = np.arange(n) % 2
    x = tf.ragged.constant([[float(y[i]) + 0.1 * j for j in range(1 + i % 4)] for i in range(n)])
    model = keras.Sequential(
        [
            keras.Input((None,), ragged=True),
            keras.layers.Lambda(lambda t: tf.reduce_mean(t, axis=1, keepdims=True)),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    cb = DeadpanCallback(print_report=False)
    if as_dataset:
        history = model.fit(
            tf.data.Dataset.from_tensor_slices((x, y)).batch(16),
            epochs=2,
            verbose=0,
            shuffle=False,
            callbacks=[cb],
        )
    else:
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[cb])
    assert len(history.history["loss"]) == 2
    _not_supported(cb.report, "RaggedTensor")
    if not as_dataset:
        _not_supported(deadpan.diagnose(model, x, y), "RaggedTensor")


# --- several fits, several models -------------------------------------------------------------------------


def test_fit_called_several_times_is_one_run() -> None:
    x, y = _data()

    def train() -> None:
        keras.utils.set_random_seed(0)
        model = _mlp("main")
        for _ in range(3):
            model.fit(x, y, batch_size=32, epochs=1, verbose=0)

    report = _no_internal_errors(run_callable(train).report)
    assert report.metrics["steps"] == 3 * 8  # the three fits add up
    assert "other_models" not in report.metrics
    assert report.verdict == "healthy", str(report)


def test_callback_reused_across_fits_adds_up() -> None:
    x, y = _data()
    keras.utils.set_random_seed(0)
    model = _mlp()
    cb = DeadpanCallback(print_report=False, probes=False)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[cb])
    first = cb.run
    model.fit(x, y, batch_size=64, epochs=2, verbose=0, callbacks=[cb])
    assert cb.run is first and first is not None
    assert first.fit_calls == 2 and first.steps == 8 + 2 * 4 and first.epochs == 3
    assert _no_internal_errors(cb.report).metrics["steps"] == 16


def test_several_models_report_covers_the_one_that_trained_most() -> None:
    x, y = _data()

    def train() -> None:
        keras.utils.set_random_seed(0)
        _mlp("small").fit(x, y, batch_size=64, epochs=1, verbose=0)
        big = _mlp("big")
        big.fit(x, y, batch_size=32, epochs=2, verbose=0)
        big.fit(x, y, batch_size=32, epochs=1, verbose=0)
        by_batch = _mlp("by_batch")
        for i in range(5):
            by_batch.train_on_batch(x[32 * i : 32 * i + 32], y[32 * i : 32 * i + 32])

    report = _no_internal_errors(run_callable(train).report)
    assert report.metrics["steps"] == 24
    assert report.metrics["model"] == "big"
    assert report.metrics["other_models"] == [
        {"name": "small", "steps": 4, "fit_calls": 1},
        {"name": "by_batch", "steps": 5, "fit_calls": 0},
    ]


# --- stop_on ----------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis")  # the point of this model
def test_stop_on_collapsed_stops_a_collapsing_fit_within_steps() -> None:
    # A softmax over one unit answers 1.0 for every input: collapsed from the first step on.
    x, y = _data()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1, activation="softmax")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    cb = DeadpanCallback(stop_on="collapsed", print_report=False, probes=False)
    with pytest.warns(CollapseWarning, match=r"collapsed at step \d+"):
        history = model.fit(x, y, batch_size=32, epochs=30, verbose=0, callbacks=[cb])
    assert cb.alert is not None and cb.alert.step <= 1, cb.alert
    # Stopped within 30 steps of the onset (20 steps of confirmation, checks at most 10 apart).
    assert cb.stopped_at is not None and cb.stopped_at - cb.alert.step <= 30, cb.stopped_at
    assert len(history.history["loss"]) == -(-cb.stopped_at // 8) < 30  # 8 steps an epoch
    report = _no_internal_errors(cb.report)
    assert report.verdict == "collapsed", str(report)
    assert report.metrics["live"]["collapsed_at"] == cb.alert.step


def test_stop_on_collapsed_does_not_stop_a_healthy_fit() -> None:
    x, y = _data()
    keras.utils.set_random_seed(0)
    model = _mlp()
    cb = DeadpanCallback(stop_on="collapsed", print_report=False, probes=False)
    history = model.fit(x, y, batch_size=32, epochs=3, verbose=0, callbacks=[cb])
    assert len(history.history["loss"]) == 3
    assert cb.stopped_at is None and cb.alert is None
    assert _no_internal_errors(cb.report).verdict == "healthy"


@pytest.mark.parametrize("bad", ["bogus", "collapse", True])
def test_stop_on_unknown_value_raises_at_construction(bad: Any) -> None:
    with pytest.raises(ValueError, match="stop_on"):
        DeadpanCallback(stop_on=bad)
