# BUG: Adam lr 0.1 (usual 1e-3) pins the output sigmoid: one image for all -- expected: optim.lr_too_high
"""MLP autoencoder on scikit-learn's digits (64 pixels -> 16-d code -> 64 pixels), MSE loss, Adam."""

import json

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 40
BATCH = 64
LR = 0.1
CODE = 16


class AutoEncoder(nn.Module):
    def __init__(self, d_in, code=CODE, hidden=128):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(d_in, hidden),
            nn.ReLU(),
            nn.Linear(hidden, code),
        )
        self.decoder = nn.Sequential(
            nn.Linear(code, hidden),
            nn.ReLU(),
            nn.Linear(hidden, d_in),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32) / 16.0
    X_tr, X_te = train_test_split(X, test_size=0.3, stratify=y, random_state=0)

    train_ds = TensorDataset(torch.from_numpy(X_tr))
    loader = DataLoader(train_ds, batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(0))

    model = AutoEncoder(X.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.MSELoss()

    for epoch in range(EPOCHS):
        model.train()
        total = 0.0
        for (xb,) in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), xb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        if epoch % 5 == 0 or epoch == EPOCHS - 1:
            print(f"epoch {epoch:2d}  train mse {total / len(train_ds):.4f}")

    model.eval()
    x_te = torch.from_numpy(X_te)
    with torch.no_grad():
        mse = float(((model(x_te) - x_te) ** 2).mean())
    mean_image = torch.from_numpy(X_tr).mean(0, keepdim=True)
    baseline = float(((mean_image - x_te) ** 2).mean())  # MSE of answering the mean training image
    print(f"held-out reconstruction mse {mse:.4f} (mean-image mse {baseline:.4f})")
    # collapsed: reconstruction MSE > 0.7 x the mean-image MSE
    collapsed = bool(mse > 0.7 * baseline)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "autoencoder",
                "metric": "heldout_reconstruction_mse",
                "value": round(mse, 5),
                "baseline": round(baseline, 5),
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
