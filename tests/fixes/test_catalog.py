"""Each fix on a small training that has its fault: it applies, changes what it says, and the trial shows it.
Plus the cases where a fix cannot apply."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from factory import healthy
from torch import nn

from deadpan.evidence import Evidence, LRRangeProbe
from deadpan.findings import Finding, Severity
from deadpan.fixes.base import LoopSpec, NotApplicable
from deadpan.fixes.catalog import all_fixes
from deadpan.fixes.catalog.correct_loop import CorrectLoop
from deadpan.fixes.catalog.lighter_regularization import LighterRegularization
from deadpan.fixes.catalog.logits_into_loss import LogitsIntoLoss
from deadpan.fixes.catalog.lr_from_range_test import LrFromRangeTest
from deadpan.fixes.catalog.match_target_shape import MatchTargetShape
from deadpan.fixes.catalog.more_steps import MoreSteps
from deadpan.fixes.catalog.output_head import OutputHead
from deadpan.fixes.catalog.reinitialize import Reinitialize
from deadpan.fixes.catalog.relu_activations import ReluActivations
from deadpan.fixes.catalog.resample_classes import ResampleClasses
from deadpan.fixes.catalog.scale_lr import ScaleLr
from deadpan.fixes.catalog.standardize_inputs import StandardizeInputs
from deadpan.fixes.catalog.train_every_parameter import TrainEveryParameter
from deadpan.fixes.runner import train_trial

from .kit import batches, blobs, mlp, setup

EV = healthy()


def finding(name: str, category: str) -> Finding:
    return Finding("DP000", name, category, Severity.ERROR, "m", "f", {}, 0.9)


def gain(before: object, after: object) -> float:
    return train_trial(after).normalized - train_trial(before).normalized  # type: ignore[arg-type]


def test_every_fix_is_registered_once_with_a_docstring() -> None:
    fixes = all_fixes()
    assert len({f.name for f in fixes}) == len(fixes) >= 10
    for f in fixes:
        assert (type(f).__doc__ or "").strip(), f.name
        assert f.title and f.categories


def test_logits_into_loss_undoes_a_double_softmax() -> None:
    class Softmaxed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = mlp()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.softmax(self.net(x), dim=1)

    broken = setup(model=Softmaxed(), lr=0.003)  # the double softmax slows it: 0.82 vs 0.97 in 100 steps
    fixed = LogitsIntoLoss().apply(broken, EV, (finding("softmax-into-cross-entropy", "loss.mismatch"),))
    assert gain(broken, fixed) > 0.15


def test_reinitialize_breaks_a_zero_init_symmetry() -> None:
    model = mlp()
    for p in model.parameters():
        nn.init.zeros_(p)
    broken = setup(model=model)
    fixed = Reinitialize().apply(broken, EV, ())
    assert all(torch.count_nonzero(p) == 0 for p in broken.model.parameters())  # the control is left alone
    assert gain(broken, fixed) > 0.5


def test_correct_loop_restores_zero_grad_and_the_left_out_parameters() -> None:
    broken = setup(lr=0.5, loop=LoopSpec(zero_grad=False))
    broken = broken.but("x", optimizer=replace(broken.optimizer, left_out=("0.weight",)))
    fixed = CorrectLoop().apply(broken, EV, (finding("zero-grad-missing", "train.loop"),))
    assert fixed.loop == LoopSpec() and fixed.optimizer.left_out == ()
    assert gain(broken, fixed) > 0.2
    with pytest.raises(NotApplicable):
        CorrectLoop().apply(setup(), EV, ())


def test_train_every_parameter_unfreezes_random_frozen_layers() -> None:
    model = mlp()
    with torch.no_grad():
        model[0].weight.zero_()  # a first layer that passes nothing on, frozen: the head sees a constant
    model[0].requires_grad_(False)
    broken = setup(model=model)
    fixed = TrainEveryParameter().apply(broken, EV, ())
    assert all(p.requires_grad for p in fixed.model.parameters())
    assert not broken.model[0].weight.requires_grad  # the control is left alone
    assert gain(broken, fixed) > 0.5
    with pytest.raises(NotApplicable):
        TrainEveryParameter().apply(setup(), EV, ())


def test_resample_classes_balances_the_batches() -> None:
    x, y = blobs(900)
    keep = torch.cat([torch.nonzero(y == 0)[:, 0], torch.nonzero(y != 0)[:, 0][:30]])  # class 0: ~90%
    broken = setup(train=batches(x[keep], y[keep]))
    fixed = ResampleClasses().apply(broken, EV, ())
    counts = torch.bincount(torch.cat([b[2] for b in fixed.train]), minlength=3).float()
    assert counts.min() / counts.max() > 0.6
    assert sum(len(b[2]) for b in fixed.train) == len(keep)


def test_standardize_inputs_rescales_train_and_heldout_alike() -> None:
    x, y = blobs(600)
    scaled = x * 1000 + 500
    broken = setup(train=batches(scaled[:480], y[:480]), heldout=batches(scaled[480:], y[480:]))
    fixed = StandardizeInputs().apply(broken, EV, ())
    xs = torch.cat([b[0][0] for b in fixed.train])
    assert xs.mean(0).abs().max() < 1e-4 and (xs.std(0) - 1).abs().max() < 1e-3
    assert torch.cat([b[0][0] for b in fixed.heldout]).abs().max() < 10
    assert gain(broken, fixed) > 0.2
    ids = setup(train=batches(torch.randint(0, 9, (64, 4)), torch.zeros(64, dtype=torch.long)))
    with pytest.raises(NotApplicable, match="integer ids"):
        StandardizeInputs().apply(ids, EV, ())


def _ev_with_range(suggested: float | None) -> Evidence:
    lr = LRRangeProbe((1e-4, 1.0), (1.0, 0.5), suggested, None, 1e-4)
    return replace(EV, probes=replace(EV.probes, lr_range=lr))


def test_learning_rate_fixes() -> None:
    slow = setup(lr=1e-4)
    fixed = LrFromRangeTest().apply(slow, _ev_with_range(0.05), ())
    assert fixed.optimizer.lr == 0.05 and gain(slow, fixed) > 0.3
    with pytest.raises(NotApplicable):
        LrFromRangeTest().apply(slow, _ev_with_range(None), ())
    up = ScaleLr().apply(slow, EV, (finding("weights-barely-move", "optim.lr_too_low"),))
    down = ScaleLr().apply(slow, EV, (finding("loss-diverged", "optim.lr_too_high"),))
    assert up.optimizer.lr == pytest.approx(1e-3) and down.optimizer.lr == pytest.approx(1e-5)


def test_more_steps_and_lighter_regularization() -> None:
    short = setup(lr=0.002, steps=20)
    longer = MoreSteps().apply(short, EV, ())
    assert longer.steps == 300 and gain(short, longer) > 0.1  # 4x 20, but at least the longest control
    assert MoreSteps().apply(setup(steps=100), EV, ()).steps == 400
    decayed = setup(model=nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.9), nn.Linear(16, 3)))
    decayed = decayed.but("x", optimizer=replace(decayed.optimizer, hyper={"weight_decay": 5.0}))
    light = LighterRegularization().apply(decayed, EV, ())
    assert light.optimizer.hyper["weight_decay"] == 0.0
    assert [m.p for m in light.model.modules() if isinstance(m, nn.Dropout)] == [0.0]
    assert [m.p for m in decayed.model.modules() if isinstance(m, nn.Dropout)] == [0.9]
    assert gain(decayed, light) > 0.3
    with pytest.raises(NotApplicable):
        LighterRegularization().apply(setup(), EV, ())


def test_relu_activations_replace_hidden_sigmoids_only() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(4, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Sigmoid(), nn.Linear(16, 3), nn.Sigmoid()
    )
    fixed = ReluActivations().apply(setup(model=model), EV, ())
    kinds = [type(m).__name__ for m in fixed.model]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear", "Sigmoid"]
    with pytest.raises(NotApplicable):
        ReluActivations().apply(setup(), EV, ())


def test_output_head_and_target_shape() -> None:
    from deadpan.capture.losses import RecordedLoss, TaskLoss
    from deadpan.evidence import Task

    x, _ = blobs(600)
    target = x[:, :1] * 2 - 3  # a regression target, mostly negative
    base = setup(
        model=nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1), nn.ReLU()),
        train=batches(x[:480], target[:480]),
        heldout=batches(x[480:], target[480:]),
        loss_fn=TaskLoss("regression"),
        task=Task("regression", None, 1),
        lr=0.01,
    )
    fixed = OutputHead().apply(base, EV, (finding("clipping-output-head", "model.output"),))
    assert [type(m).__name__ for m in fixed.model][-1] == "Identity"
    assert [type(m).__name__ for m in base.model][-1] == "ReLU"
    assert gain(base, fixed) > 0.3
    with pytest.raises(NotApplicable):
        OutputHead().apply(setup(), EV, ())  # no activation after the last layer
    flat = base.but(
        "x",
        model=nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1)),
        train=tuple((a, k, t[:, 0]) for a, k, t in base.train),  # [n] targets against an [n, 1] output
        heldout=tuple((a, k, t[:, 0]) for a, k, t in base.heldout),
        loss_fn=RecordedLoss("mse_loss", {}),  # F.mse_loss as the user called it: it broadcasts
    )
    shaped = MatchTargetShape().apply(flat, EV, (finding("broadcast-target-shape", "loss.mismatch"),))
    assert gain(flat, shaped) > 0.3


def test_nonlinear_wider_rebuilds_a_linear_stack() -> None:
    from deadpan.fixes.catalog.nonlinear_wider import NonlinearWider

    stack = setup(model=nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3)))
    fixed = NonlinearWider().apply(stack, EV, ())
    kinds = [type(m).__name__ for m in fixed.model]
    assert kinds == ["Linear", "ReLU", "Linear"]
    assert fixed.model[0].in_features == 4 and fixed.model[0].out_features == 64
    assert fixed.model[2].out_features == 3
    single = NonlinearWider().apply(setup(model=nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))), EV, ())
    assert [type(m).__name__ for m in single.model] == ["Linear", "ReLU", "Linear", "Softmax"]
    with pytest.raises(NotApplicable, match="other than Linear"):
        NonlinearWider().apply(setup(), EV, ())  # already has a ReLU: not a linear stack
    with pytest.raises(NotApplicable, match=r"nn\.Sequential"):
        NonlinearWider().apply(setup(model=nn.Linear(4, 3)), EV, ())
