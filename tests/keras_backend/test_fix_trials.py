"""Fix trials for Keras models, on both backends: verified fixes, a useless fix never verified, the user's
model untouched, and a model deadpan cannot rebuild reported as not verifiable."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest

import deadpan.fixes.verify as verify_mod
from deadpan.evidence import Evidence
from deadpan.findings import CATEGORIES, Finding
from deadpan.fixes.base import Fix, TrialSetup
from deadpan.fixes.keras_trial import KerasTrialSetup
from deadpan.fixes.options import VerifyOptions
from deadpan.scenarios.registry import get
from deadpan.script.autolog import run_callable

OPTIONS = VerifyOptions(workers=1, progress=False)

#: Trials use only the Keras API, so checks that do not depend on the backend run on one (torch, the faster
#: here); those that can (the user's state, the CLI, backend-specific failures) run on both.
one_backend = pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="backend-independent: checked on the torch backend"
)


@one_backend
@pytest.mark.parametrize(
    ("name", "fix"),
    [
        ("keras-zero-init", "reinitialize"),
        ("keras-softmax-one-unit", "output-head"),
        ("keras-categorical-ce-one-unit", "binary-loss"),
        ("keras-l2-collapse", "lighter-regularization"),
    ],
)
def test_the_top_causes_fix_is_verified(name: str, fix: str) -> None:
    report = run_callable(get(name).train, verify=OPTIONS).report
    assert report.top_cause == get(name).expected
    v = report.causes[0].verified
    assert v is not None and v["improved"] and v["fix"] == fix, v
    assert v["after"]["score"] - v["before"]["score"] >= 0.1 and not v["after"]["collapsed"]
    assert report.metrics["verification"]["runner"] == "this process"


class Useless(Fix):
    """Changes nothing, in either framework."""

    name = "useless"
    title = "doing nothing"
    categories = tuple(CATEGORIES)

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        return setup.but(self.name)

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        return setup.but(self.name)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return "nothing"


@one_backend
def test_a_useless_fix_is_never_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_mod, "all_fixes", lambda: [Useless()])
    report = run_callable(get("keras-zero-init").train, verify=OPTIONS).report
    tried = [c.verified for c in report.causes if c.verified is not None]
    assert tried
    for v in tried:
        assert v["status"] == "no_improvement" and not v["improved"]
        assert v["after"]["score"] == v["before"]["score"]  # built from the same weights, same batches


def _train(holder: dict[str, Any]) -> None:
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu", kernel_initializer="zeros"),
            keras.layers.Dense(2, activation="softmax", kernel_initializer="zeros"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    holder["model"], holder["weights"] = model, [w.copy() for w in model.get_weights()]
    holder["lr"] = float(model.optimizer.learning_rate.numpy())
    holder["x"] = x


def test_the_users_model_and_data_are_untouched() -> None:
    holder: dict[str, Any] = {}
    result = run_callable(lambda: _train(holder), verify=OPTIONS)
    assert result.report.metrics.get("verification", {}).get("control") is not None
    model = holder["model"]
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), holder["weights"], strict=True))
    assert float(model.optimizer.learning_rate.numpy()) == holder["lr"]
    assert model.layers[-1].get_config()["activation"] == "softmax"


class Subclassed(keras.Model):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = keras.layers.Dense(16, activation="relu", kernel_initializer="zeros")
        self.out = keras.layers.Dense(2, activation="softmax", kernel_initializer="zeros")

    def call(self, x: Any) -> Any:
        return self.out(self.hidden(x))


def test_a_subclassed_model_is_not_verifiable_and_nothing_crashes() -> None:
    def train() -> None:
        keras.utils.set_random_seed(0)
        x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
        y = (x[:, 0] > 0).astype("int64")
        model = Subclassed()
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=3, batch_size=32, verbose=0)

    report = run_callable(train, verify=OPTIONS).report
    assert report.verdict in ("collapsed", "degraded"), str(report)
    reason = report.metrics["verification"]["not_verifiable"]
    assert "subclassed" in reason


@one_backend
def test_diagnose_verify_continues_from_the_keras_model_as_given() -> None:
    import deadpan

    holder: dict[str, Any] = {}
    _train(holder)
    model, x = holder["model"], holder["x"]
    y = (x[:, 0] > 0).astype("int64")
    report = deadpan.diagnose(model, x, y, verify=OPTIONS)
    control = report.metrics["verification"]["control"]
    assert "as given" in control["starts_from"] and control["steps"] == 100
    assert any(c.verified and c.verified["improved"] for c in report.causes), str(report)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), holder["weights"], strict=True))


# `deadpan run --verify` end to end (about 30 s) runs in `make e2e`; the trials run in-process above.
@pytest.mark.corpus
@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the command is run on the default backend"
)
def test_deadpan_run_verify_on_a_keras_script(tmp_path: Any) -> None:
    """The command a user types: ``deadpan run --verify`` on an unmodified Keras script."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parent / "e2e" / "scripts" / "zeros_kernel_init.py"
    out = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "deadpan.cli", "run", "--verify", "--json", str(out), str(script)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text())
    top = report["causes"][0]
    assert top["category"] == "init.symmetry" and top["verified"]["improved"], top
    assert "verified: re-initialising the weights" in proc.stderr


def test_plus_minus_one_labels_are_repaired(backend: str) -> None:
    """On TensorFlow the run trains and the repair is verified; on torch the loss refuses targets outside
    [0, 1], so the user's run and the control both fail: not verifiable, with the control's error."""

    def train() -> None:
        keras.utils.set_random_seed(0)
        x = np.random.default_rng(0).normal(size=(512, 8)).astype("float32")
        y = np.where(x[:, 0] > 0, 1.0, -1.0).astype("float32")  # -1/+1 labels into binary_crossentropy
        model = keras.Sequential(
            [
                keras.Input((8,)),
                keras.layers.Dense(16, activation="relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
        model.fit(x, y, epochs=5, batch_size=32, verbose=0)

    report = run_callable(train, verify=OPTIONS).report
    assert report.top_cause == "data.labels", str(report)
    v = report.causes[0].verified
    assert v is not None and v["fix"] == "repair-labels", v
    if backend == "torch":
        assert v["status"] == "not_verifiable" and "control trial failed" in v["reason"], v
        assert "between 0 and 1" in v["reason"]
    else:
        assert v["improved"], v
