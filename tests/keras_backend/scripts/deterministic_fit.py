"""A deterministic Keras training: dropout, batch normalization, shuffled ``fit`` with validation data, a
second ``fit`` and a few ``train_on_batch`` steps; saves its final weights, optimizer variables and RNG
states to ``sys.argv[1]`` (an ``.npz``).

Used by tests/keras_backend/test_determinism.py: run plain and under ``deadpan run`` on the same Keras backend
(``KERAS_BACKEND``), the saved arrays must be bitwise identical.
"""

import random
import sys

import keras
import numpy as np

keras.utils.set_random_seed(0)
data = np.random.default_rng(0)
x = data.normal(size=(384, 16)).astype("float32")
y = ((x[:, 0] + x[:, 1]) > 0).astype("int64")
model = keras.Sequential(
    [
        keras.Input((16,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(2, activation="softmax"),
    ]
)
model.compile(
    optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
    loss="sparse_categorical_crossentropy",
)
history = model.fit(
    x[:320], y[:320], batch_size=32, epochs=3, shuffle=True, validation_data=(x[320:], y[320:]), verbose=0
)
for epoch, (loss, val) in enumerate(zip(history.history["loss"], history.history["val_loss"], strict=True)):
    print(f"epoch {epoch} loss {loss:.6f} val {val:.6f}")
model.fit(x, y, batch_size=64, epochs=1, shuffle=True, verbose=0)
for i in range(4):
    model.train_on_batch(x[32 * i : 32 * i + 32], y[32 * i : 32 * i + 32])
print("final", float(model.evaluate(x, y, verbose=0)))

state = {f"w{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(model.weights)}
state.update({f"opt{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(model.optimizer.variables)})
state["np_rng"] = np.random.get_state()[1]
state["py_rng"] = np.array(random.getstate()[1])
# The next draws of the framework's own RNG show its state, whichever backend runs.
state["keras_draw"] = keras.ops.convert_to_numpy(keras.random.uniform((4,)))
if keras.backend.backend() == "torch":
    import torch

    state["torch_rng"] = torch.get_rng_state().numpy()
np.savez(sys.argv[1], **state)
