# "My binary classifier is stuck: loss won't go below ~0.55 and every output is around 0.6-0.7, so
#  it's practically the same for every sample." -- nn.Sigmoid at the end of the model, then
#  nn.BCEWithLogitsLoss applies a second sigmoid
import numpy as np
import torch
from torch import nn


def make_data(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 12)).astype(np.float32)
    w = rng.normal(size=12)
    logits = X @ w + 0.5 * X[:, 0] * X[:, 1]
    y = (logits + rng.normal(0, 0.5, n) > 0).astype(np.float32)
    return torch.from_numpy(X), torch.from_numpy(y)


model = nn.Sequential(
    nn.Linear(12, 32),
    nn.ReLU(),
    nn.Linear(32, 1),
    nn.Sigmoid(),
)

if __name__ == "__main__":
    torch.manual_seed(0)
    X, y = make_data()
    X_train, y_train, X_val, y_val = X[:1600], y[:1600], X[1600:], y[1600:]
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(10):
        perm = torch.randperm(1600)
        running = 0.0
        for i in range(0, 1600, 32):
            idx = perm[i : i + 32]
            optimizer.zero_grad()
            out = model(X_train[idx]).squeeze(-1)
            loss = criterion(out, y_train[idx])
            loss.backward()
            optimizer.step()
            running += loss.item()
        with torch.no_grad():
            p = model(X_val).squeeze(-1)
        acc = ((p > 0.5).float() == y_val).float().mean().item()
        print(
            f"epoch {epoch}: loss {running / 50:.4f}, val acc {acc:.3f}, outputs {p.min():.3f}..{p.max():.3f}"
        )
