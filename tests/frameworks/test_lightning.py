"""``deadpan.lightning.DeadpanCallback`` with a real ``lightning.Trainer`` on CPU, and ``deadpan run`` on a
Lightning script that does not mention deadpan."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

pytest.importorskip("lightning")

import lightning.pytorch as L
import torch

from deadpan.capture.live import CollapseWarning
from deadpan.capture.samples import sampled
from deadpan.lightning import DeadpanCallback
from deadpan.script.autolog import run_script

from .conftest import SCRIPTS

lightning_digits = pytest.importorskip("lightning_digits")


class Listening(L.Callback):
    """Whether deadpan's recorder gets torch events during each training step (after deadpan's own hook)."""

    def __init__(self, cb: DeadpanCallback) -> None:
        self.cb, self.steps, self.hooked = cb, list[bool](), list[bool]()

    def on_train_batch_start(self, *args: object) -> None:
        rec = self.cb.session.recorder
        self.steps.append(rec is not None and rec.listening)
        self.hooked.append(rec is not None and rec.model is not None and bool(rec.model._forward_pre_hooks))


def _fit(cb: DeadpanCallback, steps: int, raise_at: int | None = None, *more: L.Callback) -> int:
    torch.manual_seed(0)
    train, val = lightning_digits.loaders()
    trainer = lightning_digits.trainer(steps, [cb, *more])
    trainer.fit(lightning_digits.Digits(raise_at), train, val)
    return int(trainer.global_step)


def test_raised_learning_rate_alerts_within_50_steps_and_stops(tmp_path: Path) -> None:
    cb = DeadpanCallback(stop_on="collapsed", print_report=False, probes=False, html=tmp_path / "r.html")
    with pytest.warns(CollapseWarning, match=r"collapsed at step \d+.*Likely cause: optim.lr_too_high"):
        steps = _fit(cb, 300, raise_at=60)
    assert cb.alert is not None
    assert cb.alert.step >= 60 and cb.alert.fired_at - 60 <= 50, cb.alert
    assert steps < 300 and steps <= cb.alert.fired_at + 2  # the trainer stopped at the alert
    report = cb.report
    assert report is not None and report.internal_errors == (), report.internal_errors
    assert report.verdict == "collapsed", str(report)
    assert report.causes[0].category == "optim.lr_too_high", str(report)
    assert report.metrics["live"]["collapsed_at"] == cb.alert.step
    assert (
        "<svg" in (tmp_path / "r.html").read_text() or "data:image/svg" in (tmp_path / "r.html").read_text()
    )


def test_healthy_fit_records_through_the_submodule_and_stays_quiet(tmp_path: Path) -> None:
    cb = DeadpanCallback(print_report=False, probes=False, json=tmp_path / "r.json")
    patched = Listening(cb)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        steps = _fit(cb, 120, None, patched)
    assert steps == 120 and cb.alert is None
    # Listening on the first 10 steps, the sampled ones and the live checks; asleep on most others.
    assert all(patched.steps[:10]) and 10 <= sum(patched.steps) <= 60, patched.steps
    # The sampled steps hook the model; a step woken for a live check alone does not (no dropout here).
    sampled_steps = [i for i in range(10, 120) if sampled(i)]
    assert all(patched.hooked[i] for i in sampled_steps), patched.hooked
    check_only = [i for i in range(10, 120) if patched.steps[i] and i not in sampled_steps]
    assert check_only and not any(patched.hooked[i] for i in check_only), (check_only, patched.hooked)
    rec = cb.session.recorder
    assert rec is not None and rec.step == 120
    assert len(rec.loss_series.steps) == 120  # a loss for every step: the slept-through ones from outputs
    assert 120 * 32 - 32 < rec.samples_seen <= 120 * 32  # an epoch ends on a short batch
    assert type(rec.model).__name__ == "Sequential"  # training_step calls self.model(x)
    assert rec.train_store.batches and rec.heldout_store.batches
    assert rec.steps_without_zero_grad == 0 and rec.grad_norm.values
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["verdict"] == "healthy", report["summary"]
    assert report["internal_errors"] == []
    assert report["metrics"]["validation"] and "val_loss" in report["metrics"]["validation"][-1]


def test_deadpan_run_adds_the_callback_to_a_lightning_script() -> None:
    with pytest.warns(CollapseWarning):
        result = run_script(
            SCRIPTS / "lightning_digits.py", ["--raise-at", "40", "--steps", "400"], stop_on="collapsed"
        )
    assert result.ended == "collapsed", result.ended
    assert result.report.verdict == "collapsed", str(result.report)
    assert result.report.metrics["live"]["detected_at"] - 40 <= 50
    assert result.report.metrics["steps"] < 400
