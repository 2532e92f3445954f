"""
Linear regression in Keras
(written from the DeepFD patch of StackOverflow post 51181393; the post's own
code and data were not available).
"""
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense
from keras import optimizers

keras.utils.set_random_seed(0)

# 10 numeric features, a linear target in the hundreds plus noise
rng = np.random.RandomState(0)
n = 1500
x = rng.uniform(0, 10, size=(n, 10))
w = rng.uniform(-10, 30, size=10)
y = x @ w + 50 + rng.normal(0, 5, size=n)
x_train, y_train = x[:1000], y[:1000]
x_test, y_test = x[1000:], y[1000:]

model = Sequential()
model.add(keras.Input(shape=(10,)))
model.add(Dense(1, activation='linear'))
model.compile(optimizer = 'rmsprop', loss = 'mean_squared_error', metrics = ['accuracy'])  # FAULT (benchmark)

model.fit(x_train, y_train, epochs=50, batch_size=50, verbose=0)

pred = model.predict(x_test, verbose=0).ravel()
r2 = 1 - np.sum((y_test - pred) ** 2) / np.sum((y_test - y_test.mean()) ** 2)
print('test mse', float(np.mean((y_test - pred) ** 2)))
print('REALBUG r2 %.4f' % r2)
