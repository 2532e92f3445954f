"""MLP classifier on scikit-learn's digits (8x8 images, 10 classes), DataLoader + Adam."""

import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 30
BATCH = 64
LR = 1e-3


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

    train_ds = TensorDataset(torch.from_numpy(X_tr), torch.from_numpy(y_tr))
    loader = DataLoader(train_ds, batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(0))

    model = MLP(X.shape[1], 10)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(EPOCHS):
        model.train()
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        if epoch % 5 == 0 or epoch == EPOCHS - 1:
            print(f"epoch {epoch:2d}  train loss {total / len(train_ds):.4f}")

    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(X_te)).argmax(1).numpy()
    bal_acc = balanced_accuracy_score(y_te, pred)
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
                "value": round(float(bal_acc), 4),
                "baseline": baseline,
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
