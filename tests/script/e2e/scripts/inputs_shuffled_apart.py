# "Validation accuracy is stuck at ~10% on the digits data whatever architecture I try. I shuffle the data
#  before splitting." -- the inputs were shuffled with one permutation and the labels with another
import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def prepare(seed=0):
    np.random.seed(seed)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    # shuffle before the split
    X = X[np.random.permutation(len(X))]
    y = y[np.random.permutation(len(y))]
    split = int(0.8 * len(X))
    return (
        torch.tensor(X[:split], dtype=torch.float32),
        torch.tensor(y[:split]),
        torch.tensor(X[split:], dtype=torch.float32),
        torch.tensor(y[split:]),
    )


if __name__ == "__main__":
    torch.manual_seed(0)
    x_tr, y_tr, x_val, y_val = prepare()
    loader = DataLoader(TensorDataset(x_tr, y_tr), batch_size=64, shuffle=True)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    crit = nn.CrossEntropyLoss()
    for epoch in range(12):
        model.train()
        tot = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = crit(model(xb), yb)
            loss.backward()
            opt.step()
            tot += loss.item() * len(xb)
        model.eval()
        with torch.no_grad():
            val_acc = (model(x_val).argmax(1) == y_val).float().mean().item()
        print(f"epoch {epoch:2d}  loss {tot / len(x_tr):.4f}  val_acc {val_acc:.3f}")
