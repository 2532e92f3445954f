"""Siamese network on scikit-learn's digits: pairs labelled +1 (same digit) / -1 (other digit),
nn.CosineEmbeddingLoss."""

import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

EPOCHS = 20
BATCH = 64
LR = 1e-3
EMB = 16


class SiameseNet(nn.Module):
    def __init__(self, d_in, emb=EMB, hidden=128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, emb),
        )

    def forward(self, x1, x2):
        return self.net(x1), self.net(x2)

    def embed(self, x):
        return self.net(x)


def make_pairs(y, rng):
    """A partner for every example: half the same digit (target +1), half another digit (target -1)."""
    by_class = {c: np.flatnonzero(y == c) for c in np.unique(y)}
    same = rng.random(len(y)) < 0.5
    partner_class = np.where(same, y, (y + rng.integers(1, 10, len(y))) % 10)
    partner = np.array([rng.choice(by_class[c]) for c in partner_class])
    target = np.where(partner_class == y, 1.0, -1.0).astype(np.float32)
    return partner, target


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    rng = np.random.default_rng(0)
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32) / 16.0
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    x_tr = torch.from_numpy(X_tr)

    model = SiameseNet(X.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CosineEmbeddingLoss(margin=0.0)

    for epoch in range(EPOCHS):
        model.train()
        partner, target = make_pairs(y_tr, rng)
        target = torch.from_numpy(target)
        order = rng.permutation(len(y_tr))
        total = 0.0
        for i in range(0, len(order), BATCH):
            idx = order[i : i + BATCH]
            opt.zero_grad()
            e1, e2 = model(x_tr[idx], x_tr[partner[idx]])
            loss = loss_fn(e1, e2, target[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        if epoch % 5 == 0 or epoch == EPOCHS - 1:
            print(f"epoch {epoch:2d}  cosine embedding loss {total / len(y_tr):.4f}")

    model.eval()
    with torch.no_grad():
        e_tr = F.normalize(model.embed(x_tr), dim=1).numpy()  # the loss only sees directions
        e_te = F.normalize(model.embed(torch.from_numpy(X_te)), dim=1).numpy()
    knn = KNeighborsClassifier(n_neighbors=5).fit(e_tr, y_tr)
    acc = float(knn.score(e_te, y_te))
    baseline = float(np.bincount(y_tr).max() / len(y_tr))  # every input at one point: the majority class
    emb_spread = float(np.sqrt(((e_te - e_te.mean(0)) ** 2).sum(1).mean()))  # of the unit vectors: 0 .. 1
    print(f"held-out 5-NN accuracy {acc:.3f} (one-point baseline {baseline:.3f})")
    print(f"embedding spread {emb_spread:.4f}")
    # collapsed: k-NN held-out accuracy < baseline + 0.1, or embedding spread ~ 0 (< 0.05 on unit vectors)
    collapsed = bool(acc < baseline + 0.1 or emb_spread < 0.05)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "contrastive",
                "metric": "heldout_knn_accuracy",
                "value": round(acc, 4),
                "baseline": round(baseline, 4),
                "collapsed": collapsed,
                "embedding_spread": round(emb_spread, 5),
            }
        )
    )


if __name__ == "__main__":
    main()
