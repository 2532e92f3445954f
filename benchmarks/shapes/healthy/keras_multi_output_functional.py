"""Keras functional model with two outputs on scikit-learn's digits: a shared trunk, a class head (which
digit) and a regression head (how much of the image is inked, standardised), compiled with one loss per
output. ``model.fit(x, {"cls": y_digit, "reg": y_ink})``."""

import json

import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score, r2_score
from sklearn.model_selection import train_test_split

EPOCHS = 12
BATCH = 64
LR = 2e-3


def build_model(d_in, n_classes):
    x_in = keras.Input(shape=(d_in,), name="pixels")
    h = keras.layers.Dense(128, activation="relu")(x_in)
    h = keras.layers.Dense(64, activation="relu")(h)
    cls = keras.layers.Dense(n_classes, activation="softmax", name="cls")(h)
    reg = keras.layers.Dense(1, name="reg")(h)
    return keras.Model(inputs=x_in, outputs={"cls": cls, "reg": reg})


def main():
    keras.utils.set_random_seed(0)
    np.random.seed(0)
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    ink = X.mean(1)  # mean pixel intensity: how much ink the digit uses
    X_tr, X_te, y_tr, y_te, ink_tr, ink_te = train_test_split(
        X, y, ink, test_size=0.3, stratify=y, random_state=0
    )
    ink_mean, ink_std = ink_tr.mean(), ink_tr.std()
    r_tr = ((ink_tr - ink_mean) / ink_std).astype("float32")
    r_te = ((ink_te - ink_mean) / ink_std).astype("float32")

    model = build_model(X.shape[1], 10)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LR),
        loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 1.0, "reg": 0.5},
        metrics={"cls": ["accuracy"], "reg": ["mae"]},
    )
    model.fit(
        X_tr,
        {"cls": y_tr, "reg": r_tr},
        epochs=EPOCHS,
        batch_size=BATCH,
        validation_data=(X_te, {"cls": y_te, "reg": r_te}),
        verbose=2,
    )

    out = model.predict(X_te, verbose=0)
    bal_acc = balanced_accuracy_score(y_te, out["cls"].argmax(1))
    r2 = r2_score(r_te, out["reg"].ravel())
    baseline = 1.0 / 10  # balanced accuracy of always answering the majority class
    print(f"held-out balanced accuracy {bal_acc:.3f} (majority-class baseline {baseline:.3f})")
    print(f"held-out R^2 of the ink head {r2:.3f} (training-mean baseline 0.0)")
    # collapsed: class head's balanced accuracy < baseline + 0.1, or the regression head's R^2 < 0.2
    collapsed = bool(bal_acc < baseline + 0.1 or r2 < 0.2)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "keras-multi-output",
                "metric": "heldout_balanced_accuracy",
                "value": round(float(bal_acc), 4),
                "baseline": baseline,
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
