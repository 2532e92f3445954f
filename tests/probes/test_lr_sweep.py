"""The LR range test's stopping rule (framework-free ``lr_sweep``)."""

from __future__ import annotations

from deadpan.probes.recipes import LR_STEPS, lr_sweep


def test_a_late_jump_to_a_plateau_counts_as_divergence() -> None:
    # Falls, then in the last steps jumps to 6x its start and stays: the smoothed loss would lag behind.
    losses = [2.4 - 0.02 * i for i in range(LR_STEPS - 3)] + [14.0, 15.0, 15.0]
    probe = lr_sweep(lambda i, lr: losses[i], user_lr=1e-3)
    assert probe.diverge_lr is not None
    assert probe.diverge_lr == probe.lrs[-1]
    assert len(probe.lrs) == LR_STEPS - 1  # stopped at the second raw loss above the bound


def test_one_spike_is_not_divergence() -> None:
    losses = [2.4 - 0.02 * i for i in range(LR_STEPS)]
    losses[20] = 20.0
    probe = lr_sweep(lambda i, lr: losses[i], user_lr=1e-3)
    assert probe.diverge_lr is None


def test_smooth_descent_suggests_a_rate_and_never_diverges() -> None:
    losses = [2.4 / (1 + 0.1 * i) for i in range(LR_STEPS)]
    probe = lr_sweep(lambda i, lr: losses[i], user_lr=1e-3)
    assert probe.diverge_lr is None and probe.suggested_lr is not None
