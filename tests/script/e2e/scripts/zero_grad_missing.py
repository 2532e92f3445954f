# "Training loss explodes after the first epoch and then the model predicts 'benign' for everything.
#  Same code worked in Keras." -- optimizer.zero_grad() is never called, gradients accumulate
import argparse

import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


def get_data():
    data = load_breast_cancer()
    xtr, xte, ytr, yte = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    sc = StandardScaler().fit(xtr)
    to_t = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return to_t(sc.transform(xtr)), to_t(ytr), to_t(sc.transform(xte)), to_t(yte)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    torch.manual_seed(0)
    x_train, y_train, x_test, y_test = get_data()
    model = nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.BCEWithLogitsLoss()

    for epoch in range(args.epochs):
        model.train()
        losses = []
        for i in range(0, len(x_train), args.batch_size):
            xb = x_train[i : i + args.batch_size]
            yb = y_train[i : i + args.batch_size]
            logits = model(xb).squeeze(1)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            acc = ((model(x_test).squeeze(1) > 0).float() == y_test).float().mean()
        print(f"epoch {epoch}: loss={sum(losses) / len(losses):.4f} test_acc={acc:.3f}")
