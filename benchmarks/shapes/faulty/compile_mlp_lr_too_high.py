# BUG: Adam lr 1.0, a thousand times the usual 1e-3: one class for every input -- expected: optim.lr_too_high
"""MLP classifier on scikit-learn's digits with `model = torch.compile(model)` (the default inductor backend).

Training batches all have one size (drop_last=True), so the compiled graph is not re-traced for a short last
batch. If torch.compile cannot work on a machine (no C++ compiler for inductor), set COMPILE = False: the
same training runs eagerly.
"""

import json
import time

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 15
BATCH = 64
LR = 1.0
COMPILE = True


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)
        )

    def forward(self, x):
        return self.net(x)


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=4)
    scaler = StandardScaler().fit(X_tr)
    X_tr = scaler.transform(X_tr).astype(np.float32)
    X_te = scaler.transform(X_te).astype(np.float32)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(X_tr), torch.from_numpy(y_tr)),
        batch_size=BATCH,
        shuffle=True,
        drop_last=True,
        generator=torch.Generator().manual_seed(0),
    )

    model = MLP()
    if COMPILE:
        model = torch.compile(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    criterion = nn.CrossEntropyLoss()

    t0 = time.perf_counter()
    for epoch in range(EPOCHS):
        model.train()
        total, n = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item()
            n += 1
        if epoch == 0 or (epoch + 1) % 5 == 0:
            print(f"epoch {epoch + 1}  loss {total / n:.4f}  ({time.perf_counter() - t0:.1f}s)")

    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(X_te)).argmax(1).numpy()
    bal_acc = balanced_accuracy_score(y_te, pred)
    baseline = 0.1  # the same class for every input: balanced accuracy 1/K
    print(f"held-out balanced accuracy {bal_acc:.3f}  (baseline {baseline})")
    # collapsed: held-out balanced accuracy < baseline + 0.1
    collapsed = bool(bal_acc < baseline + 0.1)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "compile",
                "metric": "heldout_balanced_accuracy",
                "value": round(float(bal_acc), 4),
                "baseline": baseline,
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
