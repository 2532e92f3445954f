"""A plain Hugging Face Trainer run (no deadpan in it): a tiny BERT built from a config (nothing downloaded)
classifies generated 16-token sequences into 10 classes: the class is the first token, the rest is noise.

``--raise-at N`` sets the learning rate to 1.0 at step N (the output collapses a few steps later);
``--steps N`` caps the training.
"""

from __future__ import annotations

import argparse
import tempfile
from typing import Any

import numpy as np
import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)


class Tokens(torch.utils.data.Dataset):
    def __init__(self, ids: np.ndarray, labels: np.ndarray) -> None:
        self.ids, self.labels = torch.tensor(ids), torch.tensor(labels)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


class RaiseLearningRate(TrainerCallback):
    def __init__(self, at: int | None) -> None:
        self.at = at

    def on_step_begin(self, args: Any, state: Any, control: Any, optimizer: Any = None, **kw: Any) -> None:
        if self.at is not None and state.global_step >= self.at:  # the scheduler resets it every step
            for group in optimizer.param_groups:
                group["lr"] = 1.0


def datasets() -> tuple[Tokens, Tokens]:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 1600)
    ids = rng.integers(10, 20, (1600, 16))
    ids[:, 0] = labels
    return Tokens(ids[:1400], labels[:1400]), Tokens(ids[1400:], labels[1400:])


def model() -> BertForSequenceClassification:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=20,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=16,
        num_labels=10,
    )
    return BertForSequenceClassification(config)


def trainer(steps: int, callbacks: list[TrainerCallback], out: str) -> Trainer:
    args = TrainingArguments(
        output_dir=out,
        max_steps=steps,
        per_device_train_batch_size=32,
        learning_rate=3e-3,
        lr_scheduler_type="constant",
        logging_steps=20,
        eval_strategy="steps",
        eval_steps=50,
        per_device_eval_batch_size=256,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    train, val = datasets()
    return Trainer(model=model(), args=args, train_dataset=train, eval_dataset=val, callbacks=callbacks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raise-at", type=int, default=None)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        trainer(args.steps, [RaiseLearningRate(args.raise_at)], out).train()


if __name__ == "__main__":
    main()
