# Port of https://stackoverflow.com/questions/56380303 (DeepFD benchmark).
# Small image CNN (softmax over 10 classes) compiled with the plain 'sgd' optimizer.
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense
from keras.optimizers import Adam
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)

# 8-bit grey-level images as read from disk (0..255), fed without rescaling.
digits = load_digits()
X = np.round(digits.images * (255.0 / 16.0)).astype("float32")[..., None]
y = digits.target
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
Y_train = keras.utils.to_categorical(y_train, 10)

model = Sequential()
model.add(keras.Input(shape=(8, 8, 1)))
model.add(Conv2D(32, (3, 3), activation='relu', padding='same'))
model.add(MaxPooling2D((2, 2)))
model.add(Flatten())
model.add(Dense(64, activation='relu'))
model.add(Dense(10, activation='softmax'))
model.compile(optimizer=Adam(learning_rate=0.0001), loss='categorical_crossentropy', metrics=['accuracy'])  # FIX (benchmark)
model.fit(X_train, Y_train, epochs=10, batch_size=32, verbose=0)

pred = np.argmax(model.predict(X_test, verbose=0), axis=1)
acc = float(np.mean(pred == y_test))
print("test accuracy", acc)
print("REALBUG accuracy %.4f" % acc)
