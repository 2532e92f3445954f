"""The fault zoo's Keras twins on this backend: a healthy run stays healthy and a clear mutant is killed and
diagnosed through the same capture ``deadpan run`` uses for ``Model.fit``."""

import os

import keras
import pytest

from deadpan.zoo import bench, operators
from deadpan.zoo.tasks import TASKS

#: The zoo's Keras twins go through the capture every Keras scenario takes (``fit`` on arrays), which the
#: TensorFlow backend covers in ``test_scenarios.py``; here, the torch backend only.
pytestmark = pytest.mark.skipif(
    keras.backend.backend() == "tensorflow" and os.environ.get("DEADPAN_KERAS_ALL") != "1",
    reason="the Keras zoo smoke runs on the torch backend (DEADPAN_KERAS_ALL=1: on every backend)",
)


def test_keras_twin_mutant_is_diagnosed() -> None:
    task = TASKS["keras-digits-mlp"]
    sel = bench.Selection(
        [task], [m for m in operators.mutants([task]) if m.operator in ("single-label", "zero-init")], 2, 2
    )
    mutants, healthy = bench.run(sel, workers=1)
    assert all(h.diagnosis is not None and h.diagnosis.verdict == "healthy" for h in healthy), healthy
    for m in mutants:
        assert m.crashed is None, m.crashed
        assert m.kill is not None and m.kill.killed, (m.id, m.scores)
        assert m.diagnosis is not None and m.diagnosis.ranked[:1] == [m.category], (m.id, m.diagnosis)
