"""Real faults from public benchmarks (``benchmarks/realbugs/``): every ported buggy program runs under
``deadpan run`` and its first cause is one of the categories its benchmark labels map to (``case.json``).
Part of ``make e2e`` (the ``corpus``); the faithfulness of each port (its fixed twin scores clearly better)
and the figures are ``benchmarks/realbugs.py``'s.

The programs are Keras 3 scripts that do not import TensorFlow: they run on the torch backend (the capture of
``fit`` on arrays is the same Python on every backend)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import keras
import pytest

HERE = Path(__file__).resolve().parents[2] / "benchmarks"
_spec = importlib.util.spec_from_file_location("realbugs", HERE / "realbugs.py")
assert _spec is not None and _spec.loader is not None
realbugs = importlib.util.module_from_spec(_spec)
sys.modules["realbugs"] = realbugs  # its dataclasses look their module up
_spec.loader.exec_module(realbugs)

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(
        keras.backend.backend() != "torch" and os.environ.get("DEADPAN_KERAS_ALL") != "1",
        reason="the ported programs run on the torch backend (DEADPAN_KERAS_ALL=1: on every backend)",
    ),
]

#: Cases deadpan is known to diagnose wrongly -> what it says instead. Each is a strict xfail, so a fix in
#: deadpan makes the test fail until the entry is removed.
KNOWN_WRONG: dict[str, str] = {
    "gh-gol_nn": "healthy: 0.85 accuracy is neither collapsed nor far behind the simple models",
    "gh-keras-super-resolution-lr": "healthy: R² 0.60 is neither collapsed nor far behind simple models",
    "so-37624102": "train.over_regularized first: removing the dropout restores it too; the search stops",
    "so-56380303": "data.inputs first: the port feeds 0-255 pixels to both twins, which deadpan names",
}


def _case(folder: Path) -> object:
    reason = KNOWN_WRONG.get(folder.name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(folder, id=folder.name, marks=marks)


@pytest.mark.parametrize("folder", [_case(f) for f in realbugs.cases()])
def test_real_bug_is_diagnosed(folder: Path) -> None:
    case = json.loads((folder / "case.json").read_text())
    report, _, error = realbugs._diagnose(folder / "buggy.py")
    assert report is not None, error
    causes = [c["category"] for c in report["causes"]]
    assert report["verdict"] in ("collapsed", "degraded"), report["summary"]
    assert causes, f"{report['verdict']} with no cause"
    assert causes[0] in case["categories"], (causes, case["categories"])
