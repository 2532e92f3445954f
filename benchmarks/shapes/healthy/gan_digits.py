"""Small MLP GAN on scikit-learn's digits (pixels scaled to [-1, 1], tanh generator output), BCEWithLogits."""

import json

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 40
BATCH = 64
Z_DIM = 16
LR = 5e-4


class Generator(nn.Module):
    def __init__(self, z_dim=Z_DIM, d_out=64, hidden=128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(z_dim, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, d_out),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, d_in=64, hidden=128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x)


def mean_pairwise_distance(x):
    return float(torch.pdist(x).mean())


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    X, y = load_digits(return_X_y=True)
    X = (X.astype(np.float32) / 16.0) * 2 - 1  # [-1, 1], like the tanh output
    X_tr, X_te = train_test_split(X, test_size=0.3, stratify=y, random_state=0)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(X_tr)),
        batch_size=BATCH,
        shuffle=True,
        drop_last=True,
        generator=torch.Generator().manual_seed(0),
    )

    G = Generator()
    D = Discriminator()
    opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=LR, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()

    for epoch in range(EPOCHS):
        d_total = g_total = 0.0
        for (real,) in loader:
            n = len(real)
            fake = G(torch.randn(n, Z_DIM))

            opt_d.zero_grad()
            d_loss = bce(D(real), torch.ones(n, 1)) + bce(D(fake.detach()), torch.zeros(n, 1))
            d_loss.backward()
            opt_d.step()

            opt_g.zero_grad()
            g_loss = bce(D(fake), torch.ones(n, 1))
            g_loss.backward()
            opt_g.step()
            d_total += d_loss.item()
            g_total += g_loss.item()
        if epoch % 5 == 0 or epoch == EPOCHS - 1:
            print(f"epoch {epoch:2d}  d loss {d_total / len(loader):.4f}  g loss {g_total / len(loader):.4f}")

    G.eval()
    with torch.no_grad():
        gen = G(torch.randn(len(X_te), Z_DIM))
    real = torch.from_numpy(X_te)
    gen_div, real_div = mean_pairwise_distance(gen), mean_pairwise_distance(real)
    # nearest real (held-out) image for each generated one: are the samples digit-like at all?
    nn_dist = float(torch.cdist(gen, real).min(1).values.mean())
    real_nn = torch.cdist(real, torch.from_numpy(X_tr)).min(1).values.mean()
    print(f"sample diversity {gen_div:.3f} (held-out real {real_div:.3f})")
    print(f"distance to nearest held-out digit {nn_dist:.3f} (held-out to train {float(real_nn):.3f})")
    # collapsed: generated sample spread (mean pairwise distance) < 0.3 x the real data's
    collapsed = bool(gen_div < 0.3 * real_div)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "gan",
                "metric": "sample_mean_pairwise_distance",
                "value": round(gen_div, 4),
                "baseline": round(real_div, 4),  # the data's own diversity; one sample for every z gives 0
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
