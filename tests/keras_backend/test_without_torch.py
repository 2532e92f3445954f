"""A Keras run on TensorFlow never imports torch (torch alone costs some 216 MB resident): not under
``deadpan run`` while the script trains, nor for the diagnosis and the intervention search after it, nor
inside the user's own ``fit`` with ``deadpan.keras.DeadpanCallback``. Both run in one fresh process (this
session's may have loaded torch for another test; one TensorFlow start keeps the test short), which then
says whether torch was loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import pytest

SCRIPT = Path(__file__).parent / "scripts" / "zero_init_fit.py"
ENV = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "1"}

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the torch backend imports torch itself"
)

#: ``deadpan run`` as the command line runs it (the arguments after ``-c``), then the user's own ``fit`` with
#: deadpan's callback, then whether torch was loaded.
CHILD = textwrap.dedent(
    """
    import runpy, sys
    sys.argv = ["deadpan", *sys.argv[1:]]
    try:
        runpy.run_module("deadpan", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        print("deadpan run exit:", exc.code)

    import keras
    import numpy as np
    from deadpan.keras import DeadpanCallback

    x = np.random.default_rng(0).normal(size=(256, 4)).astype("float32")
    layers = [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="mse")
    callback = DeadpanCallback(print_report=False)
    model.fit(x, x.sum(1, keepdims=True), batch_size=32, epochs=2, verbose=0, callbacks=[callback])
    print("callback verdict:", callback.report.verdict)
    print("torch loaded:", "torch" in sys.modules)
    """
)


def test_deadpan_run_and_the_callback_never_import_torch(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    # DP601 (symmetric weights) switched off leaves the diagnosis unsure: the intervention search runs.
    args = ["run", "--disable", "DP601", "--json", str(report), str(SCRIPT)]
    cmd = [sys.executable, "-c", CHILD, *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=ENV, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "deadpan run exit: 0" in out.stdout, out.stderr[-3000:]
    assert "torch loaded: False" in out.stdout, out.stdout
    r = json.loads(report.read_text())
    assert r["verdict"] == "collapsed", r["summary"]
    top = r["causes"][0]
    assert top["category"] == "init.symmetry" and top["verified"]["improved"] is True, r["causes"]
    assert r["metrics"]["search"]["tried"][-1]["status"] == "improved", r["metrics"]["search"]
    # The callback diagnosed the user's own fit (two epochs: whatever it finds, it saw the training).
    assert "callback verdict: " in out.stdout and "verdict: inconclusive" not in out.stdout, out.stdout
