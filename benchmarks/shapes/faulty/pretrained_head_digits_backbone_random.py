# BUG: the saved encoder is loaded into the old model: the frozen one is random -- expected: train.loop
"""Pretrained backbone + new head on scikit-learn's digits: an encoder is pretrained as an autoencoder on
the images of digits 0-4, saved with torch.save, loaded into a fresh model, frozen, and a new linear head is
trained on the labelled digits 5-9."""

import json
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

PRETRAIN_EPOCHS = 60
HEAD_EPOCHS = 30
BATCH = 32
LR = 1e-3
FEATURES = 32


class Encoder(nn.Module):
    def __init__(self, d_in=64, features=FEATURES, hidden=128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, features),
        )

    def forward(self, x):
        return self.net(x)


class AutoEncoder(nn.Module):
    def __init__(self, d_in=64, features=FEATURES):
        super().__init__()
        self.encoder = Encoder(d_in, features)
        self.decoder = nn.Sequential(nn.Linear(features, 128), nn.ReLU(), nn.Linear(128, d_in))

    def forward(self, x):
        return self.decoder(self.encoder(x))


class Classifier(nn.Module):
    def __init__(self, n_classes, features=FEATURES):
        super().__init__()
        self.encoder = Encoder(features=features)
        self.head = nn.Linear(features, n_classes)

    def forward(self, x):
        return self.head(self.encoder(x))


def pretrain(X):
    model = AutoEncoder()
    loader = DataLoader(
        TensorDataset(torch.from_numpy(X)),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    for epoch in range(PRETRAIN_EPOCHS):
        total = 0.0
        for (xb,) in loader:
            opt.zero_grad()
            loss = F.mse_loss(model(xb), xb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        if epoch % 10 == 0 or epoch == PRETRAIN_EPOCHS - 1:
            print(f"[pretrain 0-4] epoch {epoch:2d}  reconstruction mse {total / len(X):.4f}")
    return model


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32) / 16.0

    # 1. pretrain an encoder on the images of digits 0-4 (no labels) and save it
    pretrained = pretrain(X[y < 5])
    tmp = tempfile.mkdtemp()
    ckpt = os.path.join(tmp, "encoder.pt")
    torch.save(pretrained.encoder.state_dict(), ckpt)

    # 2. fresh classifier: load the encoder, freeze it, train a new head on the labelled digits 5-9
    new = y >= 5
    X_tr, X_te, y_tr, y_te = train_test_split(
        X[new], y[new] - 5, test_size=0.3, stratify=y[new], random_state=0
    )
    model = Classifier(5)
    pretrained.encoder.load_state_dict(torch.load(ckpt))
    for p in model.encoder.parameters():
        p.requires_grad = False
    os.remove(ckpt)
    os.rmdir(tmp)

    loader = DataLoader(
        TensorDataset(torch.from_numpy(X_tr), torch.from_numpy(y_tr)),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    opt = torch.optim.Adam(model.head.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(HEAD_EPOCHS):
        model.train()
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        if epoch % 5 == 0 or epoch == HEAD_EPOCHS - 1:
            print(f"[head 5-9] epoch {epoch:2d}  train loss {total / len(X_tr):.4f}")

    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(X_te))
    bal_acc = float(balanced_accuracy_score(y_te, logits.argmax(1).numpy()))
    ce = float(loss_fn(logits, torch.from_numpy(y_te)))
    prior = np.bincount(y_tr, minlength=5) / len(y_tr)
    prior_ce = float(-np.log(prior[y_te]).mean())  # cross-entropy of always answering the class frequencies
    print(f"held-out cross-entropy {ce:.3f} (constant class-prior answer {prior_ce:.3f})")
    print(f"held-out balanced accuracy on 5-9 {bal_acc:.3f} (majority-class answer 0.200)")
    # collapsed: held-out cross-entropy > 0.9 x that of the constant class-prior answer (the head learnt
    # next to nothing: its probabilities stay at the class frequencies), or balanced accuracy < 0.2 + 0.1
    collapsed = bool(ce > 0.9 * prior_ce or bal_acc < 0.2 + 0.1)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "pretrained-head",
                "metric": "heldout_cross_entropy",
                "value": round(ce, 4),
                "baseline": round(prior_ce, 4),
                "collapsed": collapsed,
                "heldout_balanced_accuracy": round(bal_acc, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
