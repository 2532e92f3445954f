# BUG: the LambdaLR lambda returns an lr, not a factor: peak lr 1e-3 * 1e-3 -- expected: optim.lr_too_low
"""MLP classifier on scikit-learn's digits, AdamW with a linear warmup then cosine decay (LambdaLR, stepped
once per batch)."""

import json
import math

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 20
BATCH = 64
PEAK_LR = 1e-3
WARMUP_FRACTION = 0.1


def warmup_cosine(warmup_steps, total_steps):
    def lr_lambda(step):
        if step < warmup_steps:
            return PEAK_LR * (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return PEAK_LR * max(0.0, 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))

    return lr_lambda


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32) / 16.0
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=2)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(X_tr), torch.from_numpy(y_tr)),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )

    model = nn.Sequential(
        nn.Linear(64, 128), nn.GELU(), nn.Dropout(0.1), nn.Linear(128, 128), nn.GELU(), nn.Linear(128, 10)
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=PEAK_LR, weight_decay=0.01)
    total_steps = EPOCHS * len(loader)
    warmup_steps = int(WARMUP_FRACTION * total_steps)
    scheduler = LambdaLR(optimizer, warmup_cosine(warmup_steps, total_steps))
    criterion = nn.CrossEntropyLoss()

    for epoch in range(EPOCHS):
        model.train()
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(xb)
        if (epoch + 1) % 4 == 0:
            lr = scheduler.get_last_lr()[0]
            print(f"epoch {epoch + 1:2d}  loss {total / len(X_tr):.4f}  lr {lr:.2e}")

    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(X_te)).argmax(1).numpy()
    bal_acc = balanced_accuracy_score(y_te, pred)
    baseline = 1.0 / 10  # majority class: balanced accuracy 1/K
    print(f"held-out balanced accuracy {bal_acc:.3f}  (baseline {baseline})")
    # collapsed: held-out balanced accuracy < baseline + 0.1
    collapsed = bool(bal_acc < baseline + 0.1)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "schedule",
                "metric": "heldout_balanced_accuracy",
                "value": round(float(bal_acc), 4),
                "baseline": baseline,
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
