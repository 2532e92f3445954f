# Port of https://stackoverflow.com/questions/46642627 (DeepFD benchmark).
# MLP regression on raw (unscaled) features in the thousands and a fractional target, compiled with
# SGD(lr=0.01) and binary cross-entropy (mse reported as a metric).
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense
from keras import optimizers

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)

X = rng.uniform(1000.0, 5000.0, size=(500, 3))
# target is a fraction in [0, 1] (binary_crossentropy in Keras 3 / torch rejects targets outside it)
Y = (X[:, 0] * X[:, 1] / 25e6 + 0.5 * X[:, 2] / 5000.0 + rng.normal(0.0, 0.02, size=500)).reshape(-1, 1)
Y = np.clip(Y / 1.5, 0.0, 1.0)
X = X.astype("float32")
Y = Y.astype("float32")
X_train, X_test, Y_train, Y_test = X[:400], X[400:], Y[:400], Y[400:]

model = Sequential()
model.add(keras.Input(shape=(3,)))
model.add(Dense(32, activation='relu'))
model.add(Dense(16, activation='relu'))
model.add(Dense(1))
opt = optimizers.SGD(learning_rate=0.01)  # FAULT (benchmark)
model.compile(loss='binary_crossentropy', optimizer=opt, metrics=['mse'])  # FAULT (benchmark)
model.fit(X_train, Y_train, epochs=100, batch_size=32, verbose=0)

pred = np.nan_to_num(model.predict(X_test, verbose=0), nan=0.0, posinf=0.0, neginf=0.0)
r2 = 1.0 - float(np.sum((Y_test - pred) ** 2) / np.sum((Y_test - Y_test.mean()) ** 2))
print("test r2 (non-finite predictions counted as 0)", r2)
print("REALBUG r2 %.4f" % r2)
