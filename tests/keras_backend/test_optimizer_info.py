"""What deadpan reads off a Keras optimizer: the learning rate, momentum, and the clipping it applies itself
(PyTorch clips outside the optimizer, where the gradient norms show it; Keras clips inside)."""

from __future__ import annotations

import keras
import pytest

from deadpan.keras.describe import optimizer_info


def test_plain_optimizer_clips_nothing() -> None:
    info = optimizer_info(keras.optimizers.Adam(learning_rate=1e-3))
    assert info is not None
    assert info.lr == pytest.approx(1e-3) and info.clip_norm is None


@pytest.mark.parametrize("key", ["clipnorm", "global_clipnorm"])
def test_clip_norm_is_read(key: str) -> None:
    info = optimizer_info(keras.optimizers.SGD(learning_rate=0.01, **{key: 1e-4}))
    assert info is not None and info.clip_norm == pytest.approx(1e-4)
