"""GAN on a 2-D mixture of 8 Gaussians on a ring: MLP generator and discriminator, BCEWithLogits,
alternating D/G steps."""

import json
import math

import numpy as np
import torch
import torch.nn as nn

STEPS = 1500
BATCH = 128
Z_DIM = 2
LR_D = 1e-3
LR_G = 1e-3
N_MODES = 8
RADIUS = 2.0
STD = 0.05


def mode_centres():
    angles = np.arange(N_MODES) * 2 * math.pi / N_MODES
    return np.stack([RADIUS * np.cos(angles), RADIUS * np.sin(angles)], 1).astype(np.float32)


def sample_data(n, rng):
    centres = mode_centres()
    idx = rng.integers(0, N_MODES, n)
    return centres[idx] + STD * rng.standard_normal((n, 2)).astype(np.float32)


class Generator(nn.Module):
    def __init__(self, z_dim=Z_DIM, hidden=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(z_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2),
        )

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x)


def modes_covered(samples, min_frac=0.02, max_dist=0.5):
    """A mode counts as covered when at least min_frac of the samples lie within max_dist of its centre."""
    centres = mode_centres()
    d = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    nearest = d.argmin(1)
    close = d.min(1) < max_dist
    counts = np.bincount(nearest[close], minlength=N_MODES)
    return int((counts >= min_frac * len(samples)).sum())


def spread(samples):
    return float(np.sqrt(((samples - samples.mean(0)) ** 2).sum(1).mean()))


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    rng = np.random.default_rng(0)

    G = Generator()
    D = Discriminator()
    opt_g = torch.optim.Adam(G.parameters(), lr=LR_G, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=LR_D, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones = torch.ones(BATCH, 1)
    zeros = torch.zeros(BATCH, 1)

    for step in range(STEPS):
        real = torch.from_numpy(sample_data(BATCH, rng))
        z = torch.randn(BATCH, Z_DIM)
        fake = G(z)

        # discriminator step
        opt_d.zero_grad()
        d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        d_loss.backward()
        opt_d.step()

        # generator step
        opt_g.zero_grad()
        g_loss = bce(D(fake), ones)
        g_loss.backward()
        opt_g.step()

        if step % 250 == 0 or step == STEPS - 1:
            print(f"step {step:4d}  d loss {d_loss.item():.4f}  g loss {g_loss.item():.4f}")

    G.eval()
    with torch.no_grad():
        gen = G(torch.randn(2000, Z_DIM)).numpy()
    real = sample_data(2000, np.random.default_rng(1))
    covered = modes_covered(gen)
    gen_spread, data_spread = spread(gen), spread(real)
    print(f"modes covered {covered}/{N_MODES} (data {modes_covered(real)}/{N_MODES})")
    print(f"sample spread {gen_spread:.3f} (data spread {data_spread:.3f})")
    # collapsed: fewer than half the modes covered, or sample spread < 0.3 x the data's
    collapsed = bool(covered < N_MODES / 2 or gen_spread < 0.3 * data_spread)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "gan",
                "metric": "modes_covered",
                "value": covered,
                "baseline": 1,  # one sample for every z covers one mode
                "collapsed": collapsed,
                "sample_spread": round(gen_spread, 4),
                "data_spread": round(data_spread, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
