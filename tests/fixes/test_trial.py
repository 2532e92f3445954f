"""One trial: trains a copy, is deterministic, leaves the caller's random state, reproduces loop bugs."""

import random

import numpy as np
import pytest
import torch

from deadpan.fixes.base import LoopSpec
from deadpan.fixes.runner import train_trial
from deadpan.fixes.trial import TrialTimeout

from .kit import setup


def test_a_healthy_setup_learns_and_the_model_is_not_touched() -> None:
    s = setup()
    before = [p.detach().clone() for p in s.model.parameters()]
    m = train_trial(s)
    assert m.score > 0.9 and not m.collapsed and m.distinct_predictions == 3 and m.steps == 100
    assert all(torch.equal(a, b) for a, b in zip(before, s.model.parameters(), strict=True))


def test_same_seed_same_result_and_the_callers_rng_is_restored() -> None:
    s1, s2 = setup(), setup()  # building them seeds torch: do it before taking the caller's state
    torch.manual_seed(123)
    random.seed(5)
    np.random.seed(7)
    states = (torch.get_rng_state(), random.getstate(), np.random.get_state()[1].copy())
    a, b = train_trial(s1), train_trial(s2)
    assert (a.score, a.loss) == (b.score, b.loss)
    assert torch.equal(torch.get_rng_state(), states[0])
    assert random.getstate() == states[1]
    assert np.array_equal(np.random.get_state()[1], states[2])


def test_the_loop_bugs_are_reproduced() -> None:
    healthy = train_trial(setup())
    no_step = train_trial(setup(loop=LoopSpec(step=False)))
    assert no_step.score < 0.6 < healthy.score  # the weights never move: the initial model's score
    # Without zero_grad the gradients pile up and the steps grow without bound: the held-out loss explodes.
    no_zero = train_trial(setup(lr=0.5, loop=LoopSpec(zero_grad=False)))
    assert no_zero.diverged or no_zero.loss > 100 * healthy.loss


def test_time_limit() -> None:
    with pytest.raises(TrialTimeout, match="limit"):
        train_trial(setup(steps=100_000), time_limit=0.2)
