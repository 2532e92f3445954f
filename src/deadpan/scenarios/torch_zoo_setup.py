"""PyTorch scenarios, first half: the shared training loop and model, the healthy trainings, and the broken
ones whose fault is in what is trained: the data, the model, its initialisation, the loss.

Each function is what a user would write: seed, data, model, optimizer, loop. The shared ``fit`` loop is a
plain, correct mini-batch loop with a held-out evaluation each epoch. Importing this module registers its
scenarios; :mod:`deadpan.scenarios.torch_zoo` imports it first, then adds those whose fault is in the
training itself.
"""

from __future__ import annotations

import torch
from torch import nn

from deadpan.scenarios import datasets
from deadpan.scenarios.registry import scenario

Tensor = torch.Tensor


def fit(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    loss_fn: nn.Module,
    x: Tensor,
    y: Tensor,
    x_test: Tensor,
    y_test: Tensor,
    epochs: int = 20,
    batch_size: int = 64,
    seed: int = 0,
) -> None:
    """A correct training loop: shuffled mini-batches, zero_grad/backward/step, held-out loss each epoch."""
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            loss_fn(model(x_test), y_test)


def mlp(d_in: int, d_out: int, hidden: int = 64, act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(d_in, hidden), act(), nn.Linear(hidden, hidden), act(), nn.Linear(hidden, d_out)
    )


# --- healthy -----------------------------------------------------------------------------------------------


@scenario("healthy-digits", None, "MLP on 8x8 digits with Adam and cross-entropy", demo=True)
def healthy_digits() -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    model = mlp(64, 10)
    fit(model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=15)


@scenario("healthy-regression", None, "MLP regression on the diabetes data with MSE", demo=True)
def healthy_regression() -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.diabetes()
    model = mlp(10, 1, hidden=32)
    fit(
        model,
        torch.optim.Adam(model.parameters(), lr=1e-3),
        nn.MSELoss(),
        x,
        y[:, None],
        xt,
        yt[:, None],
        epochs=40,
    )


@scenario("healthy-binary", None, "breast cancer, one logit and BCEWithLogitsLoss")
def healthy_binary() -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.breast_cancer()
    model = mlp(30, 1, hidden=32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    fit(model, opt, nn.BCEWithLogitsLoss(), x, y[:, None], xt, yt[:, None], epochs=20)


@scenario("healthy-circles", None, "MLP with ReLU on concentric circles")
def healthy_circles() -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.circles()
    model = mlp(2, 2, hidden=64)
    fit(model, torch.optim.Adam(model.parameters(), lr=1e-2), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=30)


@scenario("healthy-cnn", None, "small CNN on 8x8 digit images with dropout and batch norm")
def healthy_cnn() -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    x, xt = x.reshape(-1, 1, 8, 8), xt.reshape(-1, 1, 8, 8)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(16 * 16, 10),
    )
    fit(model, torch.optim.Adam(model.parameters(), lr=2e-3), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=10)


# --- data --------------------------------------------------------------------------------------------------


@scenario(
    "imbalanced-weak-signal",
    "data.imbalance",
    "95/5 classes, weak signal: the model answers class 0",
    demo=True,
)
def imbalanced_weak_signal() -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.imbalanced()
    model = mlp(10, 2, hidden=32)
    fit(model, torch.optim.SGD(model.parameters(), lr=0.05), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=10)


@scenario("random-labels", "data.no_signal", "random inputs with random labels (the seed article's data)")
def random_labels() -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.noise()
    model = mlp(20, 2, hidden=128)
    fit(model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=60)


@scenario("labels-shuffled-apart", "data.no_signal", "inputs shuffled without their labels")
def labels_shuffled_apart() -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    x = x[torch.randperm(len(x))]  # the bug: the labels were not permuted with the inputs
    model = mlp(64, 10)
    fit(model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=15)


@scenario("single-label", "data.labels", "every training label is the same class")
def single_label() -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    y = torch.zeros_like(y)  # a label-loading bug: every label ends up 0
    model = mlp(64, 10)
    fit(model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=5)


@scenario(
    "zero-inputs-integer-division", "data.inputs", "uint8 pixels // 255 gives all-zero inputs", demo=True
)
def zero_inputs(fault: bool = True) -> None:
    torch.manual_seed(0)
    raw, labels = datasets.digits_raw()
    pixels = torch.from_numpy(raw * 15).to(torch.uint8)  # 8-bit grey levels 0..240
    # the bug: integer division, every pixel becomes 0
    x = (pixels // 255).float() if fault else pixels.float() / 255
    y = torch.from_numpy(labels)
    model = mlp(64, 10)
    fit(
        model,
        torch.optim.Adam(model.parameters(), lr=1e-3),
        nn.CrossEntropyLoss(),
        x[:1400],
        y[:1400],
        x[1400:],
        y[1400:],
        epochs=5,
    )


@scenario("unscaled-inputs", "data.inputs", "raw features in the thousands with SGD")
def unscaled_inputs(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    if fault:
        x, xt = x * 1000 + 5000, xt * 1000 + 5000  # e.g. raw sensor counts, never standardised
    model = mlp(64, 10)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    fit(model, opt, nn.CrossEntropyLoss(), x, y, xt, yt, epochs=5)


@scenario("duplicated-samples", "data.diversity", "12 distinct images repeated to fill the data set")
def duplicated_samples() -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    x, y = x[:12].repeat(100, 1), y[:12].repeat(100)  # a caching bug: the same 12 samples over and over
    model = mlp(64, 10)
    fit(model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=5)


# --- model -------------------------------------------------------------------------------------------------


@scenario("linear-model-circles", "model.capacity", "one linear layer on concentric circles", demo=True)
def linear_model_circles(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.circles()
    model = nn.Sequential(nn.Linear(2, 2)) if fault else mlp(2, 2)
    fit(model, torch.optim.Adam(model.parameters(), lr=1e-2), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=30)


@scenario("linear-stack-circles", "model.capacity", "three Linear layers with no activation between them")
def linear_stack_circles(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.circles()
    model = nn.Sequential(nn.Linear(2, 64), nn.Linear(64, 64), nn.Linear(64, 2)) if fault else mlp(2, 2)
    fit(model, torch.optim.Adam(model.parameters(), lr=1e-2), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=30)


@scenario("relu-regression-head", "model.output", "ReLU on the regression output, targets below zero")
def relu_regression_head(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.diabetes()
    y, yt = y - 3.0, yt - 3.0  # e.g. log-scale targets: all negative
    head = [nn.ReLU()] if fault else []  # the bug: a ReLU after the output layer
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1), *head)
    fit(
        model,
        torch.optim.Adam(model.parameters(), lr=1e-2),
        nn.MSELoss(),
        x,
        y[:, None],
        xt,
        yt[:, None],
        epochs=30,
    )


@scenario("softmax-one-unit", "model.output", "softmax over a single output unit for a binary task")
def softmax_one_unit(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.breast_cancer()
    out = nn.Softmax(dim=1) if fault else nn.Sigmoid()  # softmax over one unit is always 1
    model = nn.Sequential(nn.Linear(30, 16), nn.ReLU(), nn.Linear(16, 1), out)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    fit(model, opt, nn.BCELoss(), x, y[:, None], xt, yt[:, None], epochs=10)


@scenario("dead-relu-bias", "model.dead_units", "first-layer bias set very negative: every ReLU is off")
def dead_relu_bias(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    model = mlp(64, 10)
    first = model[0]
    assert isinstance(first, nn.Linear)
    if fault:
        with torch.no_grad():
            first.bias.fill_(-20.0)  # a "bias trick" gone wrong
    fit(model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=5)


@scenario("saturated-tanh", "model.saturation", "tanh hidden layer pushed to +1 by a large bias")
def saturated_tanh(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    model = mlp(64, 10, act=nn.Tanh)
    for layer in (model[0], model[2]) if fault else ():
        assert isinstance(layer, nn.Linear)
        with torch.no_grad():
            layer.bias.fill_(12.0)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    fit(model, opt, nn.CrossEntropyLoss(), x, y, xt, yt, epochs=5)


# --- init --------------------------------------------------------------------------------------------------


@scenario("zero-init", "init.symmetry", "every weight initialised to zero", demo=True)
def zero_init(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    model = mlp(64, 10)
    for m in model.modules() if fault else ():
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)
    fit(model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=5)


@scenario("constant-init", "init.symmetry", "hidden weights all set to the same constant")
def constant_init(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    model = mlp(64, 10)
    for m in model.modules() if fault else ():
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.05)
    fit(model, torch.optim.SGD(model.parameters(), lr=0.05), nn.CrossEntropyLoss(), x, y, xt, yt, epochs=5)


@scenario("huge-init", "init.scale", "weights initialised with std 5 in a deep tanh network")
def huge_init(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    layers: list[nn.Module] = []
    for _ in range(4):
        lin = nn.Linear(64, 64)
        if fault:
            nn.init.normal_(lin.weight, std=5.0)
        layers += [lin, nn.Tanh()]
    layers.append(nn.Linear(64, 10))
    model = nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    fit(model, opt, nn.CrossEntropyLoss(), x, y, xt, yt, epochs=5)


# --- loss --------------------------------------------------------------------------------------------------


@scenario("softmax-into-cross-entropy", "loss.mismatch", "nn.Softmax before nn.CrossEntropyLoss", demo=True)
def softmax_into_ce(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.digits()
    model = nn.Sequential(mlp(64, 10), *([nn.Softmax(dim=1)] if fault else []))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    fit(model, opt, nn.CrossEntropyLoss(), x, y, xt, yt, epochs=5)


@scenario("mse-broadcast", "loss.mismatch", "MSELoss on an [n, 1] output and an [n] target")
def mse_broadcast(fault: bool = True) -> None:
    torch.manual_seed(0)
    x, y, xt, yt = datasets.diabetes()
    if not fault:
        y, yt = y[:, None], yt[:, None]
    model = mlp(10, 1, hidden=32)
    fit(model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.MSELoss(), x, y, xt, yt, epochs=30)
