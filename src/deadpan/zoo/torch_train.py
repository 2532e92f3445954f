"""The PyTorch training of a zoo task, written the way a user writes it, with the knobs of a
:class:`~deadpan.zoo.config.Config` (and the loop bugs it names) as plain ``if``\\ s.

``train(cfg, seed)`` returns the held-out score. deadpan captures it like any user function: an optimizer
over an ``nn.Module``'s parameters, forward calls, a loss module, ``backward`` and ``step``.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from deadpan.zoo import data, scoring
from deadpan.zoo.config import Config
from deadpan.zoo.tasks import TASKS, Task

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "linear": nn.Identity,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
}


def output_activation(name: str | None) -> list[nn.Module]:
    if name is None:
        return []
    if name == "softmax":
        return [nn.Softmax(dim=1)]
    if name == "log_softmax":
        return [nn.LogSoftmax(dim=1)]
    if name == "log_softmax_batch":  # over the batch axis instead of the classes
        return [nn.LogSoftmax(dim=0)]
    return [ACTIVATIONS[name]()]


def dense_stack(cfg: Config, width: int, hidden: tuple[int, ...], outputs: int) -> list[nn.Module]:
    """Hidden Linear + activation (+ dropout) layers, the output dropout, the output layer and its
    activation: the dense part every zoo model ends in."""
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(width, h, bias=cfg.bias), ACTIVATIONS[cfg.activation]()]
        if cfg.dropout:
            layers.append(nn.Dropout(cfg.dropout))
        width = h
    if cfg.output_dropout:
        layers.append(nn.Dropout(cfg.output_dropout))
    return [*layers, nn.Linear(width, outputs, bias=cfg.bias), *output_activation(cfg.output_activation)]


class SequenceNet(nn.Module):
    """Embedding -> GRU -> last state -> dense layers."""

    def __init__(self, cfg: Config, outputs: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(data.SEQ_VOCAB, 16)
        self.gru = nn.GRU(16, cfg.hidden[0], batch_first=True, bias=cfg.bias)
        self.head = nn.Sequential(*dense_stack(cfg, cfg.hidden[0], cfg.hidden[1:], outputs))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        states, _ = self.gru(self.embed(tokens.long()))
        return self.head(states[:, -1])


def build_model(task: Task, cfg: Config) -> nn.Module:
    outputs = cfg.output_units or task.outputs
    model: nn.Module
    if task.family == "gru":
        model = SequenceNet(cfg, outputs)
    else:
        layers: list[nn.Module] = []
        if task.family == "cnn":
            channels, size = 1, 8
            for c in cfg.hidden:
                layers += [
                    nn.Conv2d(channels, c, 3, padding=1, bias=cfg.bias),
                    ACTIVATIONS[cfg.activation](),
                    nn.MaxPool2d(2),
                ]
                if cfg.dropout:
                    layers.append(nn.Dropout(cfg.dropout))
                channels, size = c, size // 2
            layers.append(nn.Flatten())
            layers += dense_stack(cfg, channels * size * size, (), outputs)
        else:
            layers += dense_stack(cfg, _input_width(task), cfg.hidden, outputs)
        model = nn.Sequential(*layers)
    _initialise(model, cfg)
    return model


def _input_width(task: Task) -> int:
    return int(data.LOADERS[task.data]().x.shape[1])


def _initialise(model: nn.Module, cfg: Config) -> None:
    with torch.no_grad():
        first = True
        for m in model.modules():
            if not isinstance(m, (nn.Linear, nn.Conv2d, nn.GRU)):
                continue
            for name, p in m.named_parameters(recurse=False):
                if cfg.init == "zeros":
                    p.zero_()
                elif cfg.init == "constant":
                    p.fill_(cfg.init_std)
                elif cfg.init == "normal":
                    p.normal_(0.0, cfg.init_std) if "weight" in name else p.zero_()
            bias = getattr(m, "bias", None)
            if first and cfg.first_bias and isinstance(bias, torch.Tensor):
                bias.add_(cfg.first_bias)
            first = False


def loss_and_targets(task: Task, cfg: Config, y: torch.Tensor) -> tuple[nn.Module, torch.Tensor]:
    """The loss module and the targets in the form that loss is fed."""
    name = cfg.loss
    if name == "default":
        name = {"multiclass": "cross_entropy", "regression": "mse"}.get(task.kind, "bce_logits")
    if name == "cross_entropy":
        if task.kind == "multilabel":
            return nn.CrossEntropyLoss(), y.float()  # soft multi-hot targets through a softmax
        return nn.CrossEntropyLoss(), y.long().reshape(-1)
    if name == "nll":
        return nn.NLLLoss(), y.long().reshape(-1)
    if name == "mse_ids":
        return nn.MSELoss(), y.float().reshape(-1, 1)
    target = y.float().reshape(len(y), -1)
    if cfg.target_shape == "squeeze":
        target = target.reshape(-1)
    if name == "bce_logits":
        return nn.BCEWithLogitsLoss(), target
    if name == "bce":
        return nn.BCELoss(), target
    if name == "mse":
        return nn.MSELoss(), target
    if name == "l1":
        return nn.L1Loss(), target
    raise ValueError(f"unknown loss {name!r}")


def make_optimizer(model: nn.Module, cfg: Config) -> torch.optim.Optimizer:
    params = model.parameters()
    if "partial_params" in cfg.bugs:  # only the last layer's parameters were handed to the optimizer
        params = list(model.parameters())[-2:] if cfg.bias else list(model.parameters())[-1:]  # type: ignore[assignment]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def _inputs(task: Task, x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1, 1, 8, 8) if task.family == "cnn" else x


def train(cfg: Config, seed: int = 0) -> float:
    """Train ``cfg`` with ``seed`` and return its held-out score (see :mod:`deadpan.zoo.scoring`)."""
    task = TASKS[cfg.task]
    split = data.apply(data.LOADERS[task.data](), cfg.data, seed)
    torch.manual_seed(seed)
    x, xt = _inputs(task, torch.from_numpy(split.x)), _inputs(task, torch.from_numpy(split.xt))
    model = build_model(task, cfg)
    loss_fn, y = loss_and_targets(task, cfg, torch.from_numpy(split.y))
    _, yt = loss_and_targets(task, cfg, torch.from_numpy(split.yt))
    opt = make_optimizer(model, cfg)
    sched = None
    if cfg.schedule is not None:  # stepped every batch where the user meant every epoch
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=cfg.schedule[1])
    g = torch.Generator().manual_seed(seed)
    n, bs = len(x), cfg.batch_size or len(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. the broadcasting warning of a target-shape mutant
        if "eval_mode" in cfg.bugs:
            model.eval()
        for _ in range(cfg.epochs):
            if "eval_mode" not in cfg.bugs:
                model.train()
            perm = torch.randperm(n, generator=g)
            for i in range(0, n, bs):
                idx = torch.arange(min(bs, n)) if "same_batch" in cfg.bugs else perm[i : i + bs]
                if "no_zero_grad" not in cfg.bugs:
                    opt.zero_grad()
                loss = loss_fn(model(x[idx]), y[idx])
                if "detached_loss" in cfg.bugs:  # rebuilt from .item(): no graph back to the model
                    loss = torch.tensor(loss.item(), requires_grad=True)
                loss.backward()
                if cfg.clip is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
                if "no_step" not in cfg.bugs:
                    opt.step()
                if sched is not None:
                    sched.step()
            model.eval()
            with torch.no_grad():
                loss_fn(model(xt), yt)
        with torch.no_grad():
            out = model(xt).reshape(len(xt), -1).numpy()
    probabilities = cfg.output_activation in ("sigmoid", "softmax")
    return scoring.score(task.kind, out, split.yt, probabilities)
