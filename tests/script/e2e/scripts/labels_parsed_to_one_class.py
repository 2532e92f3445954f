# "100% training accuracy after one epoch but the model says 'setosa' for every flower in production."
#  -- a label-parsing bug: the class names in the CSV are lower case, the lookup table is capitalised,
#  so every label falls back to 0
import csv
import io

import numpy as np
import torch
from sklearn.datasets import load_iris
from torch import nn

CLASSES = ["Setosa", "Versicolor", "Virginica"]


def fake_csv_file():
    """The iris data as the CSV export we get from the lab (species written in lower case)."""
    iris = load_iris()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["sepal_length", "sepal_width", "petal_length", "petal_width", "species"])
    for row, t in zip(iris.data, iris.target, strict=True):
        w.writerow([*row, iris.target_names[t]])
    buf.seek(0)
    return buf


def load_rows(f):
    feats, labels = [], []
    for rec in csv.DictReader(f):
        feats.append([float(rec[k]) for k in ("sepal_length", "sepal_width", "petal_length", "petal_width")])
        name = rec["species"].strip()
        labels.append(CLASSES.index(name) if name in CLASSES else 0)
    return np.array(feats, dtype=np.float32), np.array(labels, dtype=np.int64)


if __name__ == "__main__":
    torch.manual_seed(0)
    X, y = load_rows(fake_csv_file())
    X = (X - X.mean(0)) / X.std(0)
    perm = np.random.default_rng(0).permutation(len(X))
    X, y = torch.from_numpy(X[perm]), torch.from_numpy(y[perm])

    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(30):
        epoch_loss = 0.0
        for i in range(0, 120, 20):
            optimizer.zero_grad()
            loss = loss_fn(model(X[i : i + 20]), y[i : i + 20])
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()
        if epoch % 10 == 0:
            train_acc = (model(X[:120]).argmax(1) == y[:120]).float().mean().item()
            print(f"epoch {epoch}: loss {epoch_loss / 6:.4f}, train acc {train_acc:.2f}")
    with torch.no_grad():
        print("held-out predictions:", model(X[120:]).argmax(1).tolist())
