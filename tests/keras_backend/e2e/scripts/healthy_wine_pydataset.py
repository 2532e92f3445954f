# "Is my Keras input pipeline right? Sanity check of a PyDataset-based wine classifier before I scale
#  it up." -- a correct classification pipeline through keras.utils.PyDataset (healthy)
import math

import keras
import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)


class WineBatches(keras.utils.PyDataset):
    def __init__(self, X, y, batch_size=16, shuffle=True, **kwargs):
        super().__init__(**kwargs)
        self.X, self.y = X.astype("float32"), y.astype("int64")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.order = np.arange(len(X))
        self.rng = np.random.default_rng(0)
        self.on_epoch_end()

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def __getitem__(self, i):
        b = self.order[i * self.batch_size : (i + 1) * self.batch_size]
        return self.X[b], self.y[b]

    def on_epoch_end(self):
        if self.shuffle:
            self.rng.shuffle(self.order)


X, y = load_wine(return_X_y=True)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
mean, std = X_tr.mean(0), X_tr.std(0)
X_tr, X_te = (X_tr - mean) / std, (X_te - mean) / std

model = keras.Sequential(
    [
        keras.Input(shape=(13,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(3),
    ]
)
model.compile(
    optimizer=keras.optimizers.Adam(3e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
model.fit(
    WineBatches(X_tr, y_tr), epochs=30, validation_data=WineBatches(X_te, y_te, shuffle=False), verbose=0
)
loss, acc = model.evaluate(X_te, y_te, verbose=0)
print(f"test loss {loss:.4f} accuracy {acc:.3f}")
