"""After ``diagnose`` or a ``watch`` block the user's things are exactly as before."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from torch import nn

import deadpan
from deadpan.capture import instrument


def _setup() -> tuple[nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    model[0].weight.requires_grad_(True)
    model[4].bias.requires_grad_(False)  # a frozen part
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    return model, opt, x, y


def _hook(*args: Any) -> None:
    return None


def _snapshot(model: nn.Module, opt: torch.optim.Optimizer) -> dict[str, Any]:
    return {
        "state": {k: v.clone() for k, v in model.state_dict().items()},
        "opt": repr(opt.state_dict()),
        "opt_tensors": [
            v.clone() for s in opt.state.values() for v in s.values() if isinstance(v, torch.Tensor)
        ],
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "hooks": [
            (len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks))
            for m in model.modules()
        ],
        "rng": torch.get_rng_state().clone(),
        "np_rng": np.random.get_state()[1].copy(),
        "py_rng": random.getstate(),
    }


def _assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["state"].keys() == b["state"].keys()
    for k in a["state"]:
        assert torch.equal(a["state"][k], b["state"][k]), k
    assert a["opt"] == b["opt"]
    assert all(torch.equal(u, v) for u, v in zip(a["opt_tensors"], b["opt_tensors"], strict=True))
    assert a["training"] == b["training"]
    assert a["requires_grad"] == b["requires_grad"]
    assert a["hooks"] == b["hooks"]
    assert torch.equal(a["rng"], b["rng"])
    assert np.array_equal(a["np_rng"], b["np_rng"])
    assert a["py_rng"] == b["py_rng"]


def _train(
    model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, steps: int
) -> None:
    for i in range(steps):
        j = (i * 32) % len(x)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[j : j + 32]), y[j : j + 32]).backward()
        opt.step()


def test_diagnose_leaves_everything_as_it_was() -> None:
    model, opt, x, y = _setup()
    model[0].register_forward_hook(_hook)  # the user's own hook must survive
    _train(model, opt, x, y, 20)
    model.train()
    before = _snapshot(model, opt)
    report = deadpan.diagnose(model, x, y, loss_fn=nn.CrossEntropyLoss(), optimizer=opt)
    assert report.verdict in ("healthy", "degraded", "collapsed")
    _assert_same(before, _snapshot(model, opt))
    assert not instrument.installed()


def test_watch_leaves_everything_but_the_training_itself() -> None:
    model, opt, x, y = _setup()
    model[0].register_forward_hook(_hook)
    _train(model, opt, x, y, 3)
    hooks_before = _snapshot(model, opt)["hooks"]
    with deadpan.watch(model, opt) as w:
        _train(model, opt, x, y, 30)
        inside = _snapshot(model, opt)  # the state the user's own loop produced
    after = _snapshot(model, opt)
    assert after["hooks"] == hooks_before  # deadpan's hook is gone, the user's is still there
    inside["hooks"] = hooks_before
    _assert_same(inside, after)  # diagnosing on exit changed nothing
    assert w.report is not None and w.report.verdict in ("healthy", "degraded", "collapsed")
    assert not instrument.installed()  # every patch removed


def test_watch_does_not_change_the_training() -> None:
    """The same loop with and without watch ends with identical weights and RNG state."""
    results = []
    for use_watch in (False, True):
        model, opt, x, y = _setup()
        if use_watch:
            with deadpan.watch(model, opt):
                _train(model, opt, x, y, 40)
        else:
            _train(model, opt, x, y, 40)
        results.append(_snapshot(model, opt))
    _assert_same(results[0], results[1])


def test_watch_max_steps_stops_the_loop() -> None:
    model, opt, x, y = _setup()
    with deadpan.watch(model, opt, max_steps=5) as w:
        _train(model, opt, x, y, 1000)
    assert w.recorder is not None and w.recorder.step == 5
