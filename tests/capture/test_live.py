"""Live collapse alerts on plain PyTorch loops: ``watch`` and ``deadpan run`` warn "collapsed at step N"
within 50 steps of the onset, ``stop_on`` stops, healthy runs stay quiet."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

import deadpan
from deadpan.capture.live import CollapseWarning, LiveMonitor
from deadpan.diagnosis import is_collapsed
from deadpan.probes.outputs import collapse_state, output_probe
from deadpan.probes.task import infer_task
from deadpan.script.autolog import run_callable

X, Y = load_digits(return_X_y=True)
XT, YT = torch.tensor(X / 16.0, dtype=torch.float32), torch.tensor(Y)


def _loop(steps: int, raise_at: int | None = None, dropout: float = 0.0) -> Callable[[], nn.Module]:
    """A digits MLP trained with SGD; the learning rate jumps to 5 at ``raise_at`` (dead ReLUs follow)."""

    def train() -> nn.Module:
        torch.manual_seed(0)
        model = nn.Sequential(
            nn.Linear(64, 128),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(128, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        for step in range(steps):
            if step == raise_at:
                for g in opt.param_groups:
                    g["lr"] = 5.0
            i = slice((step * 32) % (len(YT) - 32), (step * 32) % (len(YT) - 32) + 32)
            loss = nn.functional.cross_entropy(model(XT[i]), YT[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return model

    return train


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_watch_alerts_within_50_steps_of_a_raised_learning_rate(dropout: float) -> None:
    train = _loop(400, raise_at=150, dropout=dropout)
    with pytest.warns(
        CollapseWarning, match=r"collapsed at step (\d+).*Likely cause: optim.lr_too_high"
    ) as warned:
        report = run_callable(train).report
    assert {w.filename for w in warned if w.category is CollapseWarning} == {__file__}  # the user's line
    live = report.metrics["live"]
    assert live["collapsed_at"] >= 150 and live["detected_at"] - 150 <= 50, live
    assert report.verdict == "collapsed"


def test_watch_stop_on_collapsed_ends_the_block_with_a_report() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=5.0, momentum=0.9)
    steps = 0
    with pytest.warns(CollapseWarning), deadpan.watch(model, opt, stop_on="collapsed", probes=False) as w:
        for step in range(500):
            i = slice((step * 32) % 1700, (step * 32) % 1700 + 32)
            loss = nn.functional.cross_entropy(model(XT[i]), YT[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
    assert w.alert is not None and w.stopped_at is not None
    assert steps + 1 == w.stopped_at <= 50, (steps, w.alert)  # the last step raised inside opt.step()
    assert w.report is not None and w.report.verdict in ("collapsed", "degraded"), str(w.report)
    assert w.report.metrics["live"]["detected_at"] == w.alert.fired_at


def test_healthy_training_gives_no_alert() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        report = run_callable(_loop(300)).report
    live = report.metrics["live"]
    assert "collapsed_at" not in live, live
    assert live["checks"] >= 300 // 20


def test_a_batch_of_one_target_is_no_judgement() -> None:
    """Sorted data gives batches of one class: the right answer for them is one answer for every input."""
    live = LiveMonitor(every=1)
    y = torch.full((64,), 3)
    for step in range(10):
        live.observe(step, torch.eye(10)[y] * 5, y, "cross_entropy")
    assert live.alert is None and live.skipped == 10 and live.checks == 0


def test_run_stop_on_collapsed_ends_the_training() -> None:
    with pytest.warns(CollapseWarning):
        result = run_callable(_loop(600, raise_at=100), stop_on="collapsed")
    assert result.ended == "collapsed"
    assert result.report.metrics["steps"] <= 150


def _cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    y10 = torch.randint(0, 10, (128,), generator=g)
    onehot = torch.nn.functional.one_hot(y10, 10).float()
    dominant = torch.randn(128, 10, generator=g) * 0.1
    dominant[:, 3] += 1.0
    dominant[:2, 5] += 5.0  # 2 of 128 answer otherwise: majority share 0.98
    return [
        ("varied", torch.randn(128, 10, generator=g), y10),
        ("constant", torch.ones(128, 10), y10),
        ("dominant", dominant, y10),
        ("dominant-right", onehot * 3 + dominant * 0.01, y10),
        ("nan", torch.full((128, 10), float("nan")), y10),
        ("binary-logit", torch.randn(128, 1, generator=g), (torch.rand(128, 1, generator=g) > 0.5).float()),
        ("binary-prob", torch.rand(128, 1, generator=g), (torch.rand(128, 1, generator=g) > 0.5).float()),
        ("binary-flat", torch.full((128, 1), -2.0), (torch.rand(128, 1, generator=g) > 0.5).float()),
        ("regression", torch.randn(128, 1, generator=g), torch.randn(128, 1, generator=g)),
        ("regression-flat", 0.01 * torch.randn(128, 1, generator=g), torch.randn(128, 1, generator=g)),
        ("one-hot-targets", torch.randn(128, 10, generator=g), onehot),
    ]


@pytest.mark.parametrize(("name", "out", "y"), _cases(), ids=[c[0] for c in _cases()])
def test_collapse_state_agrees_with_the_reports_rule(name: str, out: torch.Tensor, y: torch.Tensor) -> None:
    loss = {
        "binary-logit": "binary_cross_entropy_with_logits",
        "binary-flat": "binary_cross_entropy_with_logits",
        "binary-prob": "binary_cross_entropy",
    }.get(name)
    loss = loss or ("mse_loss" if name.startswith("regression") else "cross_entropy")
    o, t = out.numpy(), y.numpy()  # the probes take arrays (a torch caller converts)
    task = infer_task(loss, o, t)
    probe = output_probe(task, o, t)
    state = collapse_state(task, o, t)
    assert state.collapsed == is_collapsed(probe, task.kind == "regression")
    # The quick count (classifiers, in Python) and the probe's see the same answers.
    assert (state.distinct_predictions, state.majority_share) == (
        probe.distinct_predictions,
        probe.majority_share,
    )


def test_monitor_needs_collapsed_checks_in_a_row_over_20_steps() -> None:
    live = LiveMonitor(every=5)
    y = torch.arange(64) % 10
    flat, varied = torch.zeros(64, 10), torch.eye(10)[y] * 5
    for step, out in [(0, flat), (5, flat), (10, varied), (15, flat), (20, flat), (25, flat)]:
        live.observe(step, out, y, "cross_entropy")
    assert live.alert is None  # 0-5 was broken off; 15-25 spans 10 steps
    live.observe(35, flat, y, "cross_entropy")
    alert = live.take()
    assert alert is not None and (alert.step, alert.fired_at) == (15, 35)
    assert live.take() is None  # handed out once
    live.observe(40, varied, y, "cross_entropy")
    assert live.summary()["recovered_at"] == 40
    assert np.isclose(live.summary()["majority_share"], 1.0)
    for step in (45, 55, 65):  # a second collapse alerts again
        live.observe(step, flat, y, "cross_entropy")
    assert live.take() is not None and live.summary()["alerts"] == 2


def test_an_initial_plateau_is_held_back_while_its_loss_stays_put() -> None:
    y = torch.arange(64) % 10
    flat = torch.zeros(64, 10)
    plateau = LiveMonitor(every=5)
    for step in range(0, 60, 5):  # one answer from the start, the loss still at ln 10
        plateau.observe(step, flat, y, "cross_entropy", loss_value=2.303 + 0.01 * (step % 2))
    assert plateau.alert is None and plateau.summary()["held_as_plateau"] > 0
    plateau.observe(60, flat, y, "cross_entropy", loss_value=2.9)  # it moved and is still one answer
    assert plateau.take() is not None

    bounded = LiveMonitor(every=5)
    bounded.expect_steps(100)  # a trainer's plan: held for a quarter of the run at most
    for step in range(0, 30, 5):
        bounded.observe(step, flat, y, "cross_entropy", loss_value=2.303)
    assert bounded.take() is not None and bounded.summary()["detected_at"] == 25


def test_checks_are_spaced_out_by_what_they_cost_the_steps_holding_them() -> None:
    """Pacing: checks cost at most 3% of the training time, spaced between 5 and 10 steps apart. The cost
    is the median of the latest checks' own times or, where larger, how much longer the steps holding a
    check took than the median step."""
    steps = [0.010] * 15  # 10 ms steps

    def monitor(costs: list[float]) -> LiveMonitor:
        live = LiveMonitor()
        live.mark(0)
        live.checks = len(costs)
        for c in costs:
            live.spent(c)
        return live

    cheap = monitor(
        [0.040, 0.0001, 0.0001, 0.0001]
    )  # a first check's one-off 40 ms (imports) is not its cost
    cheap.pace(steps)
    assert cheap.every == 5

    costly = monitor([0.002] * 3)  # 2 ms per check: 2 / (3% of 10 ms) -> every 7 steps
    costly.pace(steps)
    assert costly.every == 7

    held = monitor([0.0001])
    held.step_done(0, 0.0175)  # the step holding the check took 7.5 ms more than the median step
    held.step_done(1, 0.0500)  # a slow step without a check does not count
    held.pace(steps)
    assert held.every == 10  # 7.5 ms / (3% of 10 ms) = 25 steps, capped at 10

    real = LiveMonitor()
    y = torch.arange(64) % 10
    real.observe(0, torch.eye(10)[y] * 5, y, "cross_entropy", spent=0.025)  # an inference forward's 25 ms
    real.pace([0.100] * 15)  # 25 ms / (3% of 100 ms) -> every 9 steps, more if the check itself took >2 ms
    cost = real._costs[-1]
    assert real.checks == 1 and cost >= 0.025  # the forward's time counts, with the check's own
    assert real.every == min(10, math.ceil(cost / 0.003)) and real.every >= 9


def test_a_live_alert_never_names_an_end_of_run_cause() -> None:
    from types import SimpleNamespace

    from deadpan.capture.alerts import top_cause

    too_short = SimpleNamespace(category="train.too_short", summary="the loss was still falling")
    high = SimpleNamespace(category="optim.lr_too_high", summary="")
    assert top_cause(SimpleNamespace(causes=(too_short,))) == ""
    assert top_cause(SimpleNamespace(causes=(too_short, high))) == "optim.lr_too_high"


def test_a_streak_whose_loss_still_falls_is_held_until_it_flattens() -> None:
    y = torch.arange(64) % 10
    flat = torch.zeros(64, 10)
    live = LiveMonitor(every=5)
    live.observe(0, torch.eye(10)[y] * 5, y, "cross_entropy", loss_value=3.0)  # it answered otherwise once
    for step, loss in zip(range(5, 45, 5), (2.0, 1.9, 1.7, 1.5, 1.3, 1.1, 0.9, 0.7), strict=True):
        live.observe(step, flat, y, "cross_entropy", loss_value=loss)  # one answer, the loss falling
    assert live.alert is None and live.summary()["held_as_plateau"] > 0
    for step in (45, 50, 55, 60):
        live.observe(step, flat, y, "cross_entropy", loss_value=0.7)  # the loss stopped falling
    assert live.take() is not None


def test_a_slow_fall_split_unevenly_between_checks_is_still_held() -> None:
    # An autoencoder past its mean image, checked at uneven steps: no two-check window falls 5%, but each
    # check is a new low, and the last is 7% under the streak's first.
    y = torch.arange(64) % 10
    flat = torch.zeros(64, 10)
    live = LiveMonitor(every=5)
    live.observe(0, torch.eye(10)[y] * 5, y, "cross_entropy", loss_value=0.18)
    for step, loss in ((24, 0.07914), (30, 0.07919), (37, 0.07773), (46, 0.07377)):
        live.observe(step, flat, y, "cross_entropy", loss_value=loss)
    assert live.alert is None and live.summary()["held_as_plateau"] > 0
    for step in (55, 65):
        live.observe(step, flat, y, "cross_entropy", loss_value=0.07377)  # flat: no new low
    assert live.take() is not None


def test_a_streak_at_the_edge_of_the_collapse_bar_after_learning_is_held() -> None:
    # An autoencoder near its mean image, in and out of the spread bar (0.05) from batch to batch, checked at
    # steps that happen to land on four batches under it: the loss is far below the run's first, the spread
    # at the edge. The same streak with the spread near 0 (a constant output) alerts.
    from deadpan.probes.outputs import CollapseState

    def run(spreads: tuple[float, ...]) -> LiveMonitor:
        live = LiveMonitor(every=5)
        live.judge(0, CollapseState(True, 64, 1 / 64, 0.003, False, True), 64, loss_value=0.18)
        live.judge(13, CollapseState(False, 64, 1 / 64, 0.074, False, True), 64, loss_value=0.103)
        for step, loss, spread in zip(
            (21, 27, 33, 43), (0.0786, 0.0767, 0.0729, 0.0759), spreads, strict=True
        ):
            live.judge(step, CollapseState(True, 64, 1 / 64, spread, False, True), 64, loss_value=loss)
        return live

    edge = run((0.032, 0.036, 0.038, 0.041))
    assert edge.alert is None and edge.held > 0
    constant = run((0.002, 0.001, 0.002, 0.001))
    assert constant.alert is not None
