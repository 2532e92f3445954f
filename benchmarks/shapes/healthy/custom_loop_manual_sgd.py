"""MLP classifier on scikit-learn's digits trained by a hand-written loop, no torch.optim: plain SGD updates
p -= lr * p.grad under torch.no_grad(), then p.grad.zero_()."""

import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

EPOCHS = 40
BATCH = 32
LR = 0.05


class MLP(nn.Module):
    def __init__(self, d_in, n_classes, hidden=128):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, n_classes)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.out(x)


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32) / 16.0
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    x_tr, t_tr = torch.from_numpy(X_tr), torch.from_numpy(y_tr)

    model = MLP(X.shape[1], 10)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(x_tr))
        total = 0.0
        for i in range(0, len(perm), BATCH):
            idx = perm[i : i + BATCH]
            loss = F.cross_entropy(model(x_tr[idx]), t_tr[idx])
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= LR * p.grad
                    p.grad.zero_()
            total += loss.item() * len(idx)
        if epoch % 5 == 0 or epoch == EPOCHS - 1:
            print(f"epoch {epoch:2d}  train loss {total / len(x_tr):.4f}")

    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(X_te)).argmax(1).numpy()
    bal_acc = float(balanced_accuracy_score(y_te, pred))
    baseline = 1.0 / 10  # balanced accuracy of always answering the majority class
    print(f"held-out balanced accuracy {bal_acc:.3f} (majority-class baseline {baseline:.3f})")
    # collapsed: held-out balanced accuracy < baseline + 0.1
    collapsed = bool(bal_acc < baseline + 0.1)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "mlp",
                "metric": "heldout_balanced_accuracy",
                "value": round(bal_acc, 4),
                "baseline": baseline,
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
