# Port of https://stackoverflow.com/questions/46995209 (DeepFD benchmark).
# Deep, narrow MLP regressor (tanh 10 -> tanh 90 -> nine relu 10-unit layers -> linear)
# trained on raw, unscaled features in the thousands.
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)

X = rng.uniform(0.0, 2000.0, size=(600, 5))
Y = (np.sin(X[:, 0] / 500.0) + (X[:, 1] / 1000.0) ** 2 - X[:, 2] / 2000.0
     + 0.5 * np.cos(X[:, 3] / 400.0) + 0.05 * rng.normal(size=600)).reshape(-1, 1)
X = X.astype("float32")
Y = Y.astype("float32")
X = (X - np.max(X)) / np.max(X)  # FIX (benchmark)
X_train, X_test, Y_train, Y_test = X[:480], X[480:], Y[:480], Y[480:]
input_dim = X.shape[1]

model = Sequential()
model.add(keras.Input(shape=(input_dim,)))
model.add(Dense(10, input_dim=input_dim, activation='relu'))  # FIX (benchmark)
model.add(Dense(25, input_dim=input_dim, activation='relu'))  # FIX (benchmark)
model.add(Dense(1))
model.compile(loss='mean_squared_error', optimizer='adam')
model.fit(X_train, Y_train, epochs=50, batch_size=32, verbose=0)

pred = model.predict(X_test, verbose=0)
r2 = 1.0 - float(np.sum((Y_test - pred) ** 2) / np.sum((Y_test - Y_test.mean()) ** 2))
print("test r2", r2)
print("REALBUG r2 %.4f" % r2)
