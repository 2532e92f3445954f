# BUG: SGD learning rate 2.0 (momentum 0.9), meant 0.05 -- expected: optim.lr_too_high
# The first steps throw the weights so far that the softmax answers one cultivar for every wine.
"""Keras functional model with two inputs on scikit-learn's wine set: the 13 measurements split into two
groups (the basic chemistry and the phenols/colour measurements), one small branch per group, the branches
concatenated into a shared classifier head. ``model.fit([x_chem, x_color], y)``."""

import json

import keras
import numpy as np
from sklearn.datasets import load_wine
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

EPOCHS = 15
BATCH = 16
LR = 2.0

CHEM = slice(0, 7)  # alcohol, malic acid, ash, alcalinity, magnesium, total phenols, flavanoids
COLOR = slice(7, 13)  # nonflavanoid phenols, proanthocyanins, colour intensity, hue, OD280/OD315, proline


def build_model():
    chem_in = keras.Input(shape=(7,), name="chem")
    color_in = keras.Input(shape=(6,), name="color")
    a = keras.layers.Dense(16, activation="relu")(chem_in)
    b = keras.layers.Dense(16, activation="relu")(color_in)
    h = keras.layers.Concatenate()([a, b])
    h = keras.layers.Dense(32, activation="relu")(h)
    out = keras.layers.Dense(3, activation="softmax", name="cultivar")(h)
    return keras.Model(inputs=[chem_in, color_in], outputs=out)


def main():
    keras.utils.set_random_seed(0)
    np.random.seed(0)
    X, y = load_wine(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    mean, std = X_tr.mean(0), X_tr.std(0)
    X_tr = ((X_tr - mean) / std).astype("float32")
    X_te = ((X_te - mean) / std).astype("float32")

    model = build_model()
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=LR, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        [X_tr[:, CHEM], X_tr[:, COLOR]],
        y_tr,
        epochs=EPOCHS,
        batch_size=BATCH,
        validation_data=([X_te[:, CHEM], X_te[:, COLOR]], y_te),
        verbose=2,
    )

    pred = model.predict([X_te[:, CHEM], X_te[:, COLOR]], verbose=0).argmax(1)
    bal_acc = balanced_accuracy_score(y_te, pred)
    baseline = 1.0 / 3  # balanced accuracy of always answering the majority class
    print(f"held-out balanced accuracy {bal_acc:.3f} (majority-class baseline {baseline:.3f})")
    # collapsed: held-out balanced accuracy < baseline + 0.1
    collapsed = bool(bal_acc < baseline + 0.1)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "keras-multi-input",
                "metric": "heldout_balanced_accuracy",
                "value": round(float(bal_acc), 4),
                "baseline": round(baseline, 4),
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
