"""Keras tests: run once per backend, each in its own process (``KERAS_BACKEND=tensorflow|torch``).

The Makefile's pytest target runs this folder twice; the main pytest run ignores it. TensorFlow's C++ log
lines are silenced here, before Keras is first imported.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")


@pytest.fixture(scope="session")
def backend() -> str:
    return str(keras.backend.backend())


def pytest_report_header() -> str:
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"
