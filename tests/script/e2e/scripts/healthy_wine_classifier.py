# "Is my training set up right? Sanity-check run before I tune anything." -- a correct Dataset /
#  DataLoader classification pipeline with argparse options (healthy)
import argparse

import numpy as np
import torch
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, Dataset


class WineDataset(Dataset):
    def __init__(self, X, y, mean, std):
        self.X = ((X - mean) / std).astype(np.float32)
        self.y = y.astype(np.int64)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return torch.from_numpy(self.X[i]), torch.tensor(self.y[i])


def parse_args():
    p = argparse.ArgumentParser(description="wine classifier")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--hidden", type=int, default=32)
    return p.parse_args()


def evaluate(model, loader, criterion):
    model.eval()
    total, correct, loss = 0, 0, 0.0
    with torch.no_grad():
        for xb, yb in loader:
            out = model(xb)
            loss += criterion(out, yb).item() * len(yb)
            correct += (out.argmax(1) == yb).sum().item()
            total += len(yb)
    return loss / total, correct / total


def main():
    args = parse_args()
    torch.manual_seed(0)
    X, y = load_wine(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    mean, std = X_tr.mean(0), X_tr.std(0)
    train_loader = DataLoader(WineDataset(X_tr, y_tr, mean, std), batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(WineDataset(X_te, y_te, mean, std), batch_size=64)

    model = nn.Sequential(
        nn.Linear(13, args.hidden),
        nn.ReLU(),
        nn.Linear(args.hidden, args.hidden),
        nn.ReLU(),
        nn.Linear(args.hidden, 3),
    )
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    for epoch in range(args.epochs):
        model.train()
        running = 0.0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item() * len(yb)
        if epoch % 10 == 9:
            val_loss, val_acc = evaluate(model, test_loader, criterion)
            print(f"epoch {epoch + 1}: train {running / len(y_tr):.4f} val {val_loss:.4f} acc {val_acc:.3f}")


if __name__ == "__main__":
    main()
