# Port of https://stackoverflow.com/questions/41977498 (DeepFD benchmark).
# Small LSTM classifier on integer sequences reshaped to (samples, timesteps, 1) with
# one-hot targets, compiled with 'rmsprop' and fitted for 10 epochs.
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import LSTM, Dense
from keras.optimizers import Adam

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)

n_classes, timesteps = 5, 6
seqs = rng.integers(0, n_classes, size=(400, timesteps))
Y = seqs[:, 0]                      # class = the first symbol of the sequence
X = seqs / float(n_classes - 1)     # scaled symbols
X_r = np.reshape(X, (len(X), timesteps, 1)).astype("float32")
Y_cat = keras.utils.to_categorical(Y, n_classes)
X_r, X_test = X_r[:300], X_r[300:]
Y_cat, y_test = Y_cat[:300], Y[300:]

model = Sequential()
model.add(keras.Input(shape=(timesteps, 1)))
model.add(LSTM(32))
model.add(Dense(n_classes, activation='softmax'))
model.compile(optimizer=Adam(learning_rate=0.01), loss='categorical_crossentropy', metrics=['accuracy'])  # FIX (benchmark)
model.fit(X_r, Y_cat, epochs=100, verbose=0)  # FIX (benchmark)

pred = np.argmax(model.predict(X_test, verbose=0), axis=1)
acc = float(np.mean(pred == y_test))
print("test accuracy", acc)
print("REALBUG accuracy %.4f" % acc)
