"""Checks every test gets for free."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _no_hand_over_folder_left() -> Iterator[None]:
    """``deadpan run`` makes a folder for its workers' reports; whatever way a run in this process ends (plain
    loop, Lightning, Hugging Face, Keras, an exception), the folder goes with it."""
    yield
    left = list(Path(tempfile.gettempdir()).glob(f"deadpan-workers-{os.getpid()}-*"))
    for p in left:
        shutil.rmtree(p, ignore_errors=True)
    assert not left, left
