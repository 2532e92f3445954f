"""``deadpan.diagnose`` runs the intervention search as ``deadpan run`` does (issue 19): a model left far
behind by a learning rate 1000x too small, with nothing in the checks' catalogue to say why, gets its cause
from the copy that trains at the range test's rate, marked verified; ``search=False`` leaves it without one.
The search leaves the user's model and random state as they were."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits
from torch import nn

import deadpan


def _undertrained() -> tuple[nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    x_all, y_all = load_digits(return_X_y=True)
    x = torch.tensor(x_all, dtype=torch.float32)
    y = torch.tensor(y_all)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=1e-5)
    for _ in range(3):
        for i in range(0, 1500, 32):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[i : i + 32]), y[i : i + 32]).backward()
            opt.step()
    return model, opt, x, y


def test_the_search_names_the_stage_that_restores_learning() -> None:
    model, opt, x, y = _undertrained()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    report = deadpan.diagnose(model, x[:1500], y[:1500], optimizer=opt, heldout=(x[1500:], y[1500:]))
    assert report.verdict in ("collapsed", "degraded"), report.summary
    top = report.causes[0]
    assert top.category == "optim.lr_too_low", [c.category for c in report.causes]
    assert top.verified is not None and top.verified["status"] == "improved", top.verified
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in weights.items())
    assert torch.equal(torch.get_rng_state(), rng)


def test_without_the_search_no_copy_trains() -> None:
    model, opt, x, y = _undertrained()
    report = deadpan.diagnose(
        model, x[:1500], y[:1500], optimizer=opt, heldout=(x[1500:], y[1500:]), search=False
    )
    assert "search" not in report.metrics
    assert all(c.verified is None for c in report.causes)
