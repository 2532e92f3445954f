# BUG: the MLP's SGD lr is 2.0 (momentum 0.9): it jumps to a constant answer -- expected: optim.lr_too_high
"""Two models trained one after the other on scikit-learn's digits: a logistic-regression baseline (one
nn.Linear), then an MLP, each with its own SGD optimizer. Both held-out accuracies are printed; the MLP is the
model judged."""

import json

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 25
BATCH = 64
LR_LOGREG = 0.1
LR_MLP = 2.0


def fit(model, loader, lr, name):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(EPOCHS):
        model.train()
        total, n = 0.0, 0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            n += len(xb)
        if epoch % 5 == 0 or epoch == EPOCHS - 1:
            print(f"[{name}] epoch {epoch:2d}  train loss {total / n:.4f}")
    return model


def balanced_accuracy(model, X, y):
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(X)).argmax(1).numpy()
    return float(balanced_accuracy_score(y, pred))


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32) / 16.0
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(X_tr), torch.from_numpy(y_tr)),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )

    logreg = fit(nn.Linear(64, 10), loader, LR_LOGREG, "logreg")
    acc_logreg = balanced_accuracy(logreg, X_te, y_te)
    print(f"logistic regression held-out balanced accuracy {acc_logreg:.3f}")

    mlp = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
    mlp = fit(mlp, loader, LR_MLP, "mlp")
    acc_mlp = balanced_accuracy(mlp, X_te, y_te)
    print(f"MLP held-out balanced accuracy {acc_mlp:.3f}")

    baseline = 1.0 / 10  # balanced accuracy of always answering the majority class
    # collapsed (the MLP, the model this script is for): held-out balanced accuracy < baseline + 0.1
    collapsed = bool(acc_mlp < baseline + 0.1)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "two-models",
                "metric": "heldout_balanced_accuracy",
                "value": round(acc_mlp, 4),
                "baseline": baseline,
                "collapsed": collapsed,
                "logreg_heldout_balanced_accuracy": round(acc_logreg, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
