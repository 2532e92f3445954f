# "My fraud model has 97% accuracy but it never flags a single transaction as fraud."
#  -- 97/3 class imbalance with a weak signal, trained without class weights or resampling
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def make_transactions(n=3000, fraud_rate=0.03, seed=0):
    rng = np.random.default_rng(seed)
    is_fraud = (rng.random(n) < fraud_rate).astype(np.int64)
    amount = rng.lognormal(3.0, 1.0, n) * (1 + 0.6 * is_fraud)
    hour = rng.normal(14, 4, n) - 2.0 * is_fraud
    n_tx_last_day = rng.poisson(3 + 1.5 * is_fraud)
    other = rng.normal(size=(n, 7))
    X = np.column_stack([np.log(amount), hour, n_tx_last_day, other]).astype(np.float32)
    X = (X - X.mean(0)) / X.std(0)
    return X, is_fraud


if __name__ == "__main__":
    torch.manual_seed(0)
    X, y = make_transactions()
    X_train, y_train = torch.from_numpy(X[:2400]), torch.from_numpy(y[:2400])
    X_test, y_test = torch.from_numpy(X[2400:]), torch.from_numpy(y[2400:])
    print(f"fraud share in training data: {y_train.float().mean():.3f}")

    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=64, shuffle=True)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for epoch in range(10):
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item()
        with torch.no_grad():
            pred = model(X_test).argmax(1)
        acc = (pred == y_test).float().mean().item()
        print(f"epoch {epoch}: loss {total / len(loader):.4f} acc {acc:.3f} flagged {int(pred.sum())}")
