"""PyTorch scenarios: healthy trainings and one or more broken ones per cause category.

Each function is what a user would write: seed, data, model, optimizer, loop. The shared ``fit`` loop, the
healthy trainings and the faults in the data, the model, its initialisation and the loss are in
:mod:`deadpan.scenarios.torch_zoo_setup`, imported (and so registered) first; here are the faults in the
training itself: the optimiser, the loop (scenarios whose bug is in the loop write their own), the training's
length and its regularisation.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from deadpan.scenarios import datasets
from deadpan.scenarios.registry import scenario
from deadpan.scenarios.torch_zoo_setup import Tensor, fit, mlp

#: Plain SGD's learning rate where a broken scenario's twin needs one (the lr and too-short scenarios).
SGD_LR = 0.1


def _epochs(loader: torch.utils.data.DataLoader) -> Iterator[tuple[Tensor, Tensor]]:
    """The loader's batches, epoch after epoch: the correct way to draw a batch per step."""
    while True:
        yield from loader


# --- optimiser ---------------------------------------------------------------------------------------------


@scenario("lr-too-high", "optim.lr_too_high", "SGD with learning rate 5", demo=True)
def lr_too_high(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    model = mlp(64, 10)
    lr = 5.0 if fault else SGD_LR
    fit(model, torch.optim.SGD(model.parameters(), lr=lr), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=5)


@scenario("lr-too-low", "optim.lr_too_low", "SGD with learning rate 1e-6")
def lr_too_low(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    model = mlp(64, 10)
    lr = 1e-6 if fault else SGD_LR
    fit(model, torch.optim.SGD(model.parameters(), lr=lr), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=5)


# --- training loop -----------------------------------------------------------------------------------------


@scenario("zero-grad-missing", "train.loop", "optimizer.zero_grad() never called", demo=True)
def zero_grad_missing(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, _, _ = datasets.digits()
    model = mlp(64, 10)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(5):
        for i in range(0, len(x), 64):
            if not fault:
                opt.zero_grad()
            loss = loss_fn(model(x[i : i + 64]), y[i : i + 64])
            loss.backward()  # gradients pile up: zero_grad is missing
            opt.step()


@scenario("loss-detached", "train.loop", "the loss rebuilt from .item(): no gradient reaches the model")
def loss_detached(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, _, _ = datasets.digits()
    model = mlp(64, 10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(5):
        for i in range(0, len(x), 64):
            opt.zero_grad()
            out = model(x[i : i + 64])
            loss = loss_fn(out, y[i : i + 64])
            if fault:
                loss = torch.tensor(loss.item(), requires_grad=True)
            loss.backward()
            opt.step()


@scenario("same-batch-every-step", "train.loop", "next(iter(loader)) each step: always the first batch")
def same_batch(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, _, _ = datasets.digits()
    order = torch.argsort(y)  # data stored sorted by class, as many folder datasets are
    data = torch.utils.data.TensorDataset(x[order], y[order])
    # The twin iterates a shuffled loader, as a correct loop over sorted data must.
    loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=not fault)
    model = mlp(64, 10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = _epochs(loader)
    for _ in range(200):
        xb, yb = next(iter(loader)) if fault else next(batches)  # the bug: a new iterator every step
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()


# --- training length and regularisation ------------------------------------------------------------------


@scenario("too-short", "train.too_short", "plain SGD stopped after 2 epochs while the loss still falls")
def too_short(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    model = mlp(64, 10)
    opt = torch.optim.SGD(model.parameters(), lr=SGD_LR)
    fit(model, opt, nn.CrossEntropyLoss(), x, y, xt, yt, epochs=2 if fault else 12)


@scenario("overfit-small-noisy", "train.overfit", "a large network on 200 noisy samples, no regularisation")
def overfit_small_noisy() -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    # 20 examples per class: small, but not too few to learn from (the few-distinct-samples check asks 10 per
    # class); the noise and the large unregularised network make it overfit.
    x = x[:200] + 2.5 * torch.randn(200, 64)
    model = mlp(64, 10, hidden=512)
    fit(
        model,
        torch.optim.Adam(model.parameters(), lr=1e-3),
        nn.CrossEntropyLoss(),
        x,
        y[:200],
        xt,
        yt,
        epochs=60,
        batch_size=20,
    )


@scenario(
    "weight-decay-collapse", "train.over_regularized", "weight_decay=1.0: weights pushed to zero", demo=True
)
def weight_decay_collapse(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    model = mlp(64, 10)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1.0 if fault else 5e-4)
    fit(model, opt, nn.CrossEntropyLoss(), x, y, xt, yt, epochs=10)
