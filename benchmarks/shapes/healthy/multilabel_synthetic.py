"""Multi-label classifier: K independent yes/no labels per example, BCEWithLogitsLoss on [B, K] targets.

The data are generated: 20 input features, and each label is a noisy non-linear function of them
(a random two-layer "teacher"), with prevalences from about 15% to 50%.
"""

import json

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

N_TRAIN, N_TEST = 3000, 1000
D_IN, K = 20, 6
EPOCHS = 20
BATCH = 64


def make_data(rng, n):
    return rng.normal(size=(n, D_IN)).astype(np.float32)


def make_teacher(rng):
    w1 = rng.normal(size=(D_IN, 32)) / np.sqrt(D_IN)
    w2 = rng.normal(size=(32, K)) / np.sqrt(32)
    return w1, w2


def label(x, teacher, thresholds, rng):
    w1, w2 = teacher
    score = np.tanh(x @ w1) @ w2 + 0.1 * rng.normal(size=(len(x), K))
    return (score > thresholds).astype(np.float32)


def balanced_accuracy_per_label(y_true, y_pred):
    accs = []
    for k in range(y_true.shape[1]):
        t, p = y_true[:, k].astype(bool), y_pred[:, k].astype(bool)
        tpr = (p & t).sum() / max(t.sum(), 1)
        tnr = (~p & ~t).sum() / max((~t).sum(), 1)
        accs.append(0.5 * (tpr + tnr))
    return np.array(accs)


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    teacher = make_teacher(rng)
    x_tr, x_te = make_data(rng, N_TRAIN), make_data(rng, N_TEST)
    # thresholds at chosen quantiles of the training scores give each label its prevalence
    w1, w2 = teacher
    scores = np.tanh(x_tr @ w1) @ w2
    prevalence = np.linspace(0.15, 0.5, K)
    thresholds = np.array([np.quantile(scores[:, k], 1 - prevalence[k]) for k in range(K)])
    y_tr, y_te = label(x_tr, teacher, thresholds, rng), label(x_te, teacher, thresholds, rng)
    print("label prevalence (train):", np.round(y_tr.mean(0), 3).tolist())

    loader = DataLoader(
        TensorDataset(torch.from_numpy(x_tr), torch.from_numpy(y_tr)),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    model = nn.Sequential(nn.Linear(D_IN, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, K))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.BCEWithLogitsLoss()

    for epoch in range(EPOCHS):
        model.train()
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        if (epoch + 1) % 5 == 0:
            print(f"epoch {epoch + 1:2d}  bce {total / N_TRAIN:.4f}")

    model.eval()
    with torch.no_grad():
        prob = torch.sigmoid(model(torch.from_numpy(x_te))).numpy()
    pred = prob > 0.5
    per_label = balanced_accuracy_per_label(y_te, pred)
    macro = float(per_label.mean())
    # predicting each label's prevalence for every input (thresholded: all yes or all no) scores 0.5
    baseline = 0.5
    print("held-out balanced accuracy per label:", np.round(per_label, 3).tolist())
    print(f"macro balanced accuracy {macro:.3f}  (prevalence baseline {baseline})")
    # collapsed: held-out macro balanced accuracy < baseline + 0.1
    collapsed = bool(macro < baseline + 0.1)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "multilabel",
                "metric": "heldout_macro_balanced_accuracy",
                "value": round(macro, 4),
                "baseline": baseline,
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
