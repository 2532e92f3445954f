"""One torch thread for these tests: their models are tiny, and on a small shared machine torch's threads only
wait on each other (a backward pass of a 100-parameter model then takes milliseconds). Restored after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
