"""Keras MLP on scikit-learn's digits trained by a hand-written TensorFlow loop: tf.data batches,
``tf.GradientTape`` and ``optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))``."""

import json
import os

os.environ["KERAS_BACKEND"] = "tensorflow"

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

EPOCHS = 10
BATCH = 64
LR = 1e-3


def main():
    keras.utils.set_random_seed(0)
    np.random.seed(0)
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    X_tr, X_te = X_tr.astype("float32") / 16.0, X_te.astype("float32") / 16.0

    train_ds = tf.data.Dataset.from_tensor_slices((X_tr, y_tr)).shuffle(len(X_tr), seed=0).batch(BATCH)

    model = keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(learning_rate=LR)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = loss_fn(y, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    for epoch in range(EPOCHS):
        total, n = 0.0, 0
        for xb, yb in train_ds:
            total += float(train_step(xb, tf.cast(yb, tf.int32)))
            n += 1
        print(f"epoch {epoch + 1:2d}  train loss {total / n:.4f}")

    pred = model(X_te, training=False).numpy().argmax(1)
    bal_acc = balanced_accuracy_score(y_te, pred)
    baseline = 1.0 / 10  # balanced accuracy of always answering the majority class
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
