"""A plain Lightning training on scikit-learn's digits (no deadpan in it): ``deadpan run`` adds the callback.

``--raise-at N`` sets the learning rate to 5.0 at step N (the output collapses a few steps later);
``--steps N`` caps the training.
"""

from __future__ import annotations

import argparse

import lightning.pytorch as L
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Digits(L.LightningModule):
    """``training_step`` calls a submodule (``self.model``), not the module's own forward."""

    def __init__(self, raise_at: int | None = None, hidden: int = 128) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10)
        )
        self.raise_at = raise_at

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        if self.global_step == self.raise_at:
            for group in self.optimizers().optimizer.param_groups:  # type: ignore[union-attr]
                group["lr"] = 5.0
        return F.cross_entropy(self.model(x), y)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", F.cross_entropy(self.model(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.05, momentum=0.9)


def loaders(batch_size: int = 32) -> tuple[DataLoader, DataLoader]:
    x, y = load_digits(return_X_y=True)
    xt, yt = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
    g = torch.Generator().manual_seed(0)
    train = DataLoader(TensorDataset(xt[:1400], yt[:1400]), batch_size=batch_size, shuffle=True, generator=g)
    return train, DataLoader(TensorDataset(xt[1400:], yt[1400:]), batch_size=256)


def trainer(steps: int, callbacks: list[L.Callback] | None = None) -> L.Trainer:
    return L.Trainer(
        max_steps=steps,
        callbacks=callbacks or [],
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        logger=False,
        val_check_interval=None,
        check_val_every_n_epoch=1,
        num_sanity_val_steps=0,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raise-at", type=int, default=None)
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args()
    torch.manual_seed(0)
    train, val = loaders()
    trainer(args.steps).fit(Digits(args.raise_at), train, val)


if __name__ == "__main__":
    main()
