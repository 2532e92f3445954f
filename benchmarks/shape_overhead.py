"""Step-time overhead of ``deadpan run`` on a next-token language model and on a GAN (issue 18).

Each training runs as a function, alternately plain and under ``deadpan run``'s machinery
(:func:`deadpan.script.autolog.run_callable`, which a ``deadpan run`` of a script uses), in one process,
``--repeats`` times each; the figure is the ratio of the median per-step times (the training thread's CPU
time, so other processes' load does not stretch it). The diagnosis after the run is not part of the step
time. The LM is a GRU over a 31-token vocabulary with ``logits.view(-1, V)`` into the loss (the per-position
pairing path); the GAN is two MLPs with two optimizers (the several-models path: two recorders, the graph
walks that tell their losses apart).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/shape_overhead.py [--steps 300] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from deadpan.script.autolog import run_callable

CLOCK = time.thread_time
V, T, B = 31, 32, 32


class GRULM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed, self.gru, self.head = (
            nn.Embedding(V, 32),
            nn.GRU(32, 64, batch_first=True),
            nn.Linear(64, V),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.gru(self.embed(x))[0])


def lm_training(steps: int, times: list[float]) -> Callable[[], None]:
    def train() -> None:
        torch.manual_seed(0)
        lm = GRULM()
        opt = torch.optim.Adam(lm.parameters(), lr=3e-3)
        data = torch.randint(1, V, (64 * B, T + 1))
        for step in range(steps):
            batch = data[(step * B) % len(data) :][:B]
            t0 = CLOCK()
            loss = F.cross_entropy(lm(batch[:, :-1]).view(-1, V), batch[:, 1:].reshape(-1), ignore_index=0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            times.append(CLOCK() - t0)

    return train


def gan_training(steps: int, times: list[float]) -> Callable[[], None]:
    def train() -> None:
        torch.manual_seed(0)
        gen = nn.Sequential(nn.Linear(8, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
        disc = nn.Sequential(nn.Linear(2, 128), nn.LeakyReLU(0.2), nn.Linear(128, 1))
        opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3, betas=(0.5, 0.999))
        ones, zeros = torch.ones(128, 1), torch.zeros(128, 1)
        for _ in range(steps):
            t0 = CLOCK()
            real = torch.randn(128, 2) + 2.0
            fake = gen(torch.randn(128, 8))
            opt_d.zero_grad()
            d_loss = F.binary_cross_entropy_with_logits(disc(real), ones)
            d_loss = d_loss + F.binary_cross_entropy_with_logits(disc(fake.detach()), zeros)
            d_loss.backward()
            opt_d.step()
            opt_g.zero_grad()
            F.binary_cross_entropy_with_logits(disc(fake), ones).backward()
            opt_g.step()
            times.append(CLOCK() - t0)

    return train


def ratio(make: Callable[[int, list[float]], Callable[[], None]], steps: int, repeats: int) -> float:
    plain: list[float] = []
    watched: list[float] = []
    for _ in range(repeats):
        make(steps, plain)()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run_callable(make(steps, watched))
    return statistics.median(watched) / statistics.median(plain)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    for name, make in (("GRU next-token LM", lm_training), ("GAN (two models)", gan_training)):
        print(f"{name}: step-time ratio under deadpan run {ratio(make, args.steps, args.repeats):.3f}")


if __name__ == "__main__":
    main()
