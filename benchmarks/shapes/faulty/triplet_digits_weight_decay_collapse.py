# BUG: Adam weight_decay=1.0 (meant 1e-4): embeddings to one point -- expected: train.over_regularized
"""Embedding network trained with nn.TripletMarginLoss on scikit-learn's digits, judged by k-NN on the
embeddings."""

import json

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

EPOCHS = 20
BATCH = 64
LR = 1e-3
EMB = 16
WEIGHT_DECAY = 1.0


class EmbeddingNet(nn.Module):
    def __init__(self, d_in, emb=EMB, hidden=128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, emb),
        )

    def forward(self, x):
        return self.net(x)


def make_triplets(y, rng):
    """For every training example: a positive of the same class and a negative of another class."""
    by_class = {c: np.flatnonzero(y == c) for c in np.unique(y)}
    pos = np.array([rng.choice(by_class[c]) for c in y])
    neg_class = (y + rng.integers(1, 10, len(y))) % 10
    neg = np.array([rng.choice(by_class[c]) for c in neg_class])
    return pos, neg


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    rng = np.random.default_rng(0)
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32) / 16.0
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    x_tr = torch.from_numpy(X_tr)

    model = EmbeddingNet(X.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    loss_fn = nn.TripletMarginLoss(margin=1.0)

    for epoch in range(EPOCHS):
        model.train()
        pos, neg = make_triplets(y_tr, rng)
        order = rng.permutation(len(y_tr))
        total = 0.0
        for i in range(0, len(order), BATCH):
            idx = order[i : i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(x_tr[idx]), model(x_tr[pos[idx]]), model(x_tr[neg[idx]]))
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        if epoch % 5 == 0 or epoch == EPOCHS - 1:
            print(f"epoch {epoch:2d}  triplet loss {total / len(y_tr):.4f}")

    model.eval()
    with torch.no_grad():
        e_tr = model(x_tr).numpy()
        e_te = model(torch.from_numpy(X_te)).numpy()
    knn = KNeighborsClassifier(n_neighbors=5).fit(e_tr, y_tr)
    acc = float(knn.score(e_te, y_te))
    baseline = float(np.bincount(y_tr).max() / len(y_tr))  # every input at one point: the majority class
    emb_spread = float(np.sqrt(((e_te - e_te.mean(0)) ** 2).sum(1).mean()))
    print(f"held-out 5-NN accuracy {acc:.3f} (one-point baseline {baseline:.3f})")
    print(f"embedding spread {emb_spread:.4f}")
    # collapsed: k-NN held-out accuracy < baseline + 0.1, or embedding spread ~ 0 (< 1e-3)
    collapsed = bool(acc < baseline + 0.1 or emb_spread < 1e-3)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "triplet",
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
