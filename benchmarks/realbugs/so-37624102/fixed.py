# Port of https://stackoverflow.com/questions/37624102 (DeepFD benchmark).
# The Keras-1 documentation MLP for multi-class softmax classification
# (Dense(64)-tanh-Dropout x2, Dense(10)-softmax) trained with SGD + Nesterov momentum.
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense, Dropout, Activation
from keras.optimizers import SGD
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype("float32")
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
Y_train = keras.utils.to_categorical(y_train, 10)

model = Sequential()
model.add(keras.Input(shape=(64,)))
model.add(Dense(64, kernel_initializer='uniform'))
model.add(Activation('tanh'))
model.add(Dropout(0.5))
model.add(Dense(64, kernel_initializer='uniform'))
model.add(Activation('tanh'))
model.add(Dropout(0.5))
model.add(Dense(10, kernel_initializer='uniform'))
model.add(Activation('softmax'))

sgd = SGD(learning_rate=0.01, decay=1e-6, momentum=0.9, nesterov=True)  # FIX (benchmark)
model.compile(loss='categorical_crossentropy', optimizer=sgd, metrics=['accuracy'])
model.fit(X_train, Y_train, epochs=20, batch_size=16, verbose=0)

pred = np.argmax(model.predict(X_test, verbose=0), axis=1)
acc = float(np.mean(pred == y_test))
print("test accuracy", acc)
print("REALBUG accuracy %.4f" % acc)
