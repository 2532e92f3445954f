# Port of https://stackoverflow.com/questions/42800203 (DeepFD benchmark).
# Binary classifier whose single output unit uses softmax.
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

keras.utils.set_random_seed(0)

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train = scaler.transform(X_train).astype("float32")
X_test = scaler.transform(X_test).astype("float32")
y_train = y_train.astype("float32")
y_test = y_test.astype("float32")

model = Sequential()
model.add(keras.Input(shape=(X_train.shape[1],)))
model.add(Dense(12, activation='relu'))
model.add(Dense(8, activation='relu'))
model.add(Dense(1, activation='softmax'))  # FAULT (benchmark)
model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
model.fit(X_train, y_train, epochs=50, batch_size=32, verbose=0)

pred = (model.predict(X_test, verbose=0).ravel() > 0.5).astype("float32")
acc = float(np.mean(pred == y_test))
print("test accuracy", acc)
print("REALBUG accuracy %.4f" % acc)
