"""A Keras training whose output collapses: every kernel starts at zero, so the ReLU units output zero for
every input and the softmax answers one class. Small enough for the diagnosis and the intervention search to
take seconds.

Used by tests/keras_backend/test_without_torch.py: under ``deadpan run`` on TensorFlow, torch is never
imported.
"""

import keras
import numpy as np

keras.utils.set_random_seed(0)
x = np.random.default_rng(0).normal(size=(512, 8)).astype("float32")
y = x[:, :3].argmax(1)
model = keras.Sequential(
    [
        keras.Input((8,)),
        keras.layers.Dense(16, activation="relu", kernel_initializer="zeros"),
        keras.layers.Dense(16, activation="relu", kernel_initializer="zeros"),
        keras.layers.Dense(3, activation="softmax", kernel_initializer="zeros"),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
model.fit(x, y, batch_size=32, epochs=3, verbose=0)
