# BUG: targets of shape [B] against outputs [B, 1]: MSELoss broadcasts to [B, B] -- expected: loss.mismatch
"""MLP regression on scikit-learn's diabetes set, inputs and target standardised, MSE loss."""

import json

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 30
BATCH = 32


def build_model(d_in):
    return nn.Sequential(
        nn.Linear(d_in, 32),
        nn.ReLU(),
        nn.Linear(32, 16),
        nn.ReLU(),
        nn.Linear(16, 1),
    )


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    X, y = load_diabetes(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=4)
    x_scaler = StandardScaler().fit(X_tr)
    y_scaler = StandardScaler().fit(y_tr.reshape(-1, 1))
    X_tr, X_te = x_scaler.transform(X_tr).astype(np.float32), x_scaler.transform(X_te).astype(np.float32)
    t_tr = y_scaler.transform(y_tr.reshape(-1, 1)).astype(np.float32).ravel()

    ds = TensorDataset(torch.from_numpy(X_tr), torch.from_numpy(t_tr))
    loader = DataLoader(ds, batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(0))
    model = build_model(X_tr.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    mse = nn.MSELoss()

    for epoch in range(EPOCHS):
        model.train()
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = mse(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1}: train mse (standardised) {total / len(ds):.4f}")

    model.eval()
    with torch.no_grad():
        pred_std = model(torch.from_numpy(X_te)).numpy()
    pred = y_scaler.inverse_transform(pred_std).ravel()
    r2 = r2_score(y_te, pred)
    # the collapsed answer, the training mean for every input, scores R^2 ~ 0
    baseline = r2_score(y_te, np.full_like(y_te, y_tr.mean()))
    print(f"held-out R^2 {r2:.3f}  (training-mean baseline {baseline:.3f})")
    # collapsed: held-out R^2 < 0.2
    collapsed = bool(r2 < 0.2)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "regression",
                "metric": "heldout_r2",
                "value": round(float(r2), 4),
                "baseline": round(float(baseline), 4),
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
