"""The kill test keeps only mutants that lose a large, significant part of what the healthy model learned."""

from deadpan.zoo.kill import MIN_LOSS, kill_test

HEALTHY = [0.97, 0.98, 0.96, 0.97, 0.98, 0.97]


def test_collapse_to_chance_is_killed() -> None:
    k = kill_test([0.1, 0.1, 0.1], HEALTHY, chance=0.1)
    assert k.killed and k.p_value < 0.01 and k.loss_share > 0.99


def test_small_significant_loss_survives() -> None:
    # Clearly significant, but only about 10% of the margin over chance is lost.
    k = kill_test([0.88, 0.88, 0.89, 0.88], HEALTHY, chance=0.1)
    assert k.p_value < 0.01
    assert not k.killed and k.loss_share < MIN_LOSS


def test_large_but_noisy_loss_survives() -> None:
    k = kill_test([0.2, 0.97, 0.98], HEALTHY, chance=0.1)
    assert k.loss_share > MIN_LOSS
    assert not k.killed


def test_better_than_healthy_survives() -> None:
    assert not kill_test([0.99, 0.99, 0.99], HEALTHY, chance=0.1).killed


def test_zero_variance_on_both_sides() -> None:
    # Every seed gives the same score (e.g. a constant output): the t statistic is undefined, the
    # comparison of the means decides.
    assert kill_test([0.5, 0.5, 0.5], [0.9] * 6, chance=0.5).killed
    assert not kill_test([0.9, 0.9, 0.9], [0.9] * 6, chance=0.5).killed
