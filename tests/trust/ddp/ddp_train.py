"""A data-parallel training on CPU (gloo, 2 ranks), started the ways users start one.

    torchrun --nproc-per-node 2 ddp_train.py [--skew]       # ranks from torchrun's environment
    python ddp_train.py --spawn [--skew] [--keep-group]      # the script spawns its own workers
    torchrun --nproc-per-node 2 ddp_train.py --watch         # deadpan.watch around the loop

With ``--watch`` each rank prints ``WATCH`` and its report as JSON (rank 0's covers every rank).

Three well-separated classes of 8-feature points. Healthy: each rank takes every second row of the shuffled
data (what DistributedSampler does). ``--skew``: the data set is sorted by label and cut at the wrong place,
so rank 1's shard is all class 2 (a collapse only rank 1's shard shows). ``--keep-group``: the script never
calls destroy_process_group().
"""

from __future__ import annotations

import argparse
import os
import socket

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

STEPS = 60
BATCH = 32


def data(rank: int, world: int, skew: bool) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat_interleave(300)
    centres = torch.randn(3, 8, generator=g) * 3
    x = centres[y] + torch.randn(len(y), 8, generator=g)
    if skew:  # sorted by label; the bug: rank 0 gets the first 600 rows (classes 0 and 1), rank 1 the rest
        cut = [slice(0, 600), slice(600, 900)][rank]
        return x[cut], y[cut]
    order = torch.randperm(len(y), generator=g)
    mine = order[rank::world]
    return x[mine], y[mine]


def train(rank: int, world: int, skew: bool, keep_group: bool, watch: bool = False) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    model = DistributedDataParallel(nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3)))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = data(rank, world, skew)
    g = torch.Generator().manual_seed(rank)

    def loop() -> torch.Tensor:
        for _ in range(STEPS):
            idx = torch.randint(0, len(y), (BATCH,), generator=g)
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        return loss

    if watch:
        import deadpan

        with deadpan.watch(model, opt) as w:
            loss = loop()
        assert w.report is not None
        print("WATCH " + w.report.to_json(indent=0).replace("\n", ""), flush=True)
    else:
        loss = loop()
    print(f"rank {rank}: trained, loss {loss.item():.3f}", flush=True)
    if not keep_group:
        dist.destroy_process_group()


def spawned(rank: int, world: int, skew: bool, keep_group: bool) -> None:
    train(rank, world, skew, keep_group)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--spawn", action="store_true")
    ap.add_argument("--skew", action="store_true")
    ap.add_argument("--keep-group", action="store_true")
    ap.add_argument("--watch", action="store_true")
    a = ap.parse_args()
    if a.spawn:
        import torch.multiprocessing as mp

        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", str(free_port()))
        mp.spawn(spawned, args=(2, a.skew, a.keep_group), nprocs=2)
    else:
        train(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), a.skew, a.keep_group, a.watch)
