"""Per-position losses (issue 18): a next-token model's ``[B, T, V]`` logits flattened into the loss with
``ignore_index`` padding, and the ``[B, V, T]`` form; judged by cross-entropy skill against the unigram."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deadpan.capture.loss_record import LossRecord
from deadpan.capture.losses import OutputAdapter, RecordedLoss, make_adapter
from deadpan.script.autolog import run_callable

V, T, PAD = 12, 10, 0


def _corpus(n: int, shuffle_targets: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Each next token is the current one plus one (mod the 11 real tokens), so context decides it; shorter
    sequences are padded with PAD (ignored by the loss)."""
    g = torch.Generator().manual_seed(0)
    start = torch.randint(1, V, (n, 1), generator=g)
    seq = (start - 1 + torch.arange(T + 1)) % (V - 1) + 1
    lengths = torch.randint(T // 2, T + 2, (n,), generator=g)
    seq[torch.arange(T + 1) >= lengths[:, None]] = PAD
    x, y = seq[:, :-1].clone(), seq[:, 1:].clone()
    if shuffle_targets:
        y = y[torch.randperm(n, generator=g)]
    return x, y


class TinyLM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(V, 16)
        self.head = nn.Linear(16, V)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.embed(x)))


def _train(form: str, shuffle_targets: bool = False) -> None:
    torch.manual_seed(0)
    x, y = _corpus(512, shuffle_targets)
    model = TinyLM()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(4):
        for i in range(0, len(x), 32):
            logits = model(x[i : i + 32])
            if form == "flat":
                loss = F.cross_entropy(logits.view(-1, V), y[i : i + 32].reshape(-1), ignore_index=PAD)
            else:
                loss = F.cross_entropy(logits.transpose(1, 2), y[i : i + 32], ignore_index=PAD)
            opt.zero_grad()
            loss.backward()
            opt.step()


@pytest.mark.parametrize("form", ["flat", "bvt"])
def test_a_next_token_model_is_paired_and_scored_by_cross_entropy_skill(form: str) -> None:
    report = run_callable(lambda: _train(form)).report
    assert report.verdict == "healthy", str(report)
    assert report.metrics["score_metric"] == "cross-entropy skill"
    assert report.metrics["train_score"] > 0.5


def test_a_model_with_targets_from_other_sequences_does_no_better_than_the_unigram() -> None:
    report = run_callable(lambda: _train("flat", shuffle_targets=True)).report
    assert report.verdict in ("collapsed", "degraded"), str(report)
    assert report.metrics["train_score"] < 0.2
    # The per-position learnability probe: the input tokens say nothing about another sequence's targets
    # (this corpus's 66 distinct sequences are also named, as few distinct samples).
    assert "data.no_signal" in [c.category for c in report.causes[:2]], str(report)


class DropoutLM(TinyLM):
    """Dropout makes the live check run the batch again in inference mode (the pending check)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(F.dropout(torch.tanh(self.embed(x)), 0.1, self.training))


def _train_padded_with_decay() -> None:
    """Hugging Face's form: labels padded with -100 (cross_entropy's default ignore_index, not passed), a
    learning rate decayed linearly to zero by the last step."""
    torch.manual_seed(0)
    x, y = _corpus(512, False)
    y[y == PAD] = -100
    model = DropoutLM()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    steps = 4 * len(x) // 32
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1 - s / steps)
    for _ in range(4):
        for i in range(0, len(x), 32):
            loss = F.cross_entropy(model(x[i : i + 32]).view(-1, V), y[i : i + 32].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()


def test_default_padding_and_a_decayed_learning_rate_are_read_as_the_run_used_them() -> None:
    result = run_callable(_train_padded_with_decay)
    report = result.report
    assert report.verdict == "healthy", str(report)
    assert not report.internal_errors, report.internal_errors
    assert result.evidence is not None and result.evidence.task is not None
    assert result.evidence.task.ignore_index == -100
    opt = result.evidence.training.optimizer if result.evidence.training is not None else None
    assert opt is not None and 2e-3 < opt.lr <= 1e-2  # a rate the sampled steps ran at, not the last (0)


def test_the_adapter_gives_flattened_logits_back_in_cross_entropy_layout() -> None:
    logits = torch.randn(4, T, V)
    target = torch.randint(0, V, (4, T))
    record = LossRecord("cross_entropy", logits.view(-1, V), target.view(-1), {}, fold=T)
    adapter = make_adapter(record)
    assert isinstance(adapter, OutputAdapter)
    out = adapter(logits)
    assert out.shape == (4, V, T)
    assert torch.equal(out, logits.transpose(1, 2))
    loss = RecordedLoss("cross_entropy", {}, fold=T)(out, target)
    assert torch.allclose(loss, F.cross_entropy(logits.view(-1, V), target.view(-1)))
