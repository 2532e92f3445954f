"""Keras 3 MLP on scikit-learn's breast-cancer set (30 features, malignant / benign) trained by a
hand-written loop on the torch backend, the way the Keras guide writes it: torch autograd
(``loss.backward()``), then ``optimizer.apply(grads, model.trainable_weights)``."""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 10
BATCH = 32
LR = 1e-3


def build_model(d_in):
    return keras.Sequential(
        [
            keras.Input(shape=(d_in,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(2),
        ]
    )


def main():
    keras.utils.set_random_seed(0)
    torch.manual_seed(0)
    np.random.seed(0)
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    mean, std = X_tr.mean(0), X_tr.std(0)
    X_tr = ((X_tr - mean) / std).astype("float32")
    X_te = ((X_te - mean) / std).astype("float32")

    loader = DataLoader(
        TensorDataset(torch.from_numpy(X_tr), torch.from_numpy(y_tr)),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )

    model = build_model(X.shape[1])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(learning_rate=LR)

    def train_step(x, y):
        logits = model(x, training=True)
        loss = loss_fn(y, logits)
        model.zero_grad()
        loss.backward()
        trainable_weights = [v for v in model.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            optimizer.apply(gradients, trainable_weights)
        return loss.item()

    for epoch in range(EPOCHS):
        total, n = 0.0, 0
        for xb, yb in loader:
            total += train_step(xb, yb)
            n += 1
        if epoch % 3 == 0 or epoch == EPOCHS - 1:
            print(f"epoch {epoch + 1:2d}  train loss {total / n:.4f}")

    with torch.no_grad():
        logits = model(X_te, training=False)
    pred = keras.ops.convert_to_numpy(logits).argmax(1)
    bal_acc = balanced_accuracy_score(y_te, pred)
    baseline = 1.0 / 2  # balanced accuracy of always answering the majority class
    print(f"held-out balanced accuracy {bal_acc:.3f} (majority-class baseline {baseline:.3f})")
    # collapsed: held-out balanced accuracy < baseline + 0.1
    collapsed = bool(bal_acc < baseline + 0.1)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "keras-custom-loop",
                "metric": "heldout_balanced_accuracy",
                "value": round(float(bal_acc), 4),
                "baseline": baseline,
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
