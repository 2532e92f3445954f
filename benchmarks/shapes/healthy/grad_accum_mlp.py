"""MLP classifier on scikit-learn's digits with gradient accumulation.

Micro-batches of 16, the loss divided by ACCUM = 4 and one optimizer step every 4 micro-batches (an effective
batch of 64).
"""

import json

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 20
MICRO_BATCH = 16
ACCUM = 4


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=1)
    scaler = StandardScaler().fit(X_tr)
    X_tr = scaler.transform(X_tr).astype(np.float32)
    X_te = scaler.transform(X_te).astype(np.float32)

    loader = DataLoader(
        TensorDataset(torch.from_numpy(X_tr), torch.from_numpy(y_tr)),
        batch_size=MICRO_BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()

    step = 0
    for epoch in range(EPOCHS):
        model.train()
        optimizer.zero_grad()
        running = 0.0
        for i, (xb, yb) in enumerate(loader):
            loss = criterion(model(xb), yb) / ACCUM
            loss.backward()
            running += loss.item() * ACCUM
            if (i + 1) % ACCUM == 0 or (i + 1) == len(loader):
                optimizer.step()
                optimizer.zero_grad()
                step += 1
        if (epoch + 1) % 5 == 0:
            print(f"epoch {epoch + 1}  optimizer steps {step}  mean loss {running / len(loader):.4f}")

    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(X_te)).argmax(1).numpy()
    score = balanced_accuracy_score(y_te, pred)
    baseline = 0.1  # majority class for everything: balanced accuracy 1/K
    print(f"held-out balanced accuracy {score:.3f}  baseline {baseline}")
    # collapsed: held-out balanced accuracy < baseline + 0.1
    collapsed = bool(score < baseline + 0.1)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "grad-accum",
                "metric": "heldout_balanced_accuracy",
                "value": round(float(score), 4),
                "baseline": baseline,
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
