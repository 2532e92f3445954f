# "Wine classifier: loss goes from 1.10 to 1.09 in 15 epochs and it predicts class 1 for everything. Is
#  my model too small?" -- SGD with learning_rate=1e-5 (copied from a fine-tuning tutorial)
import keras
import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

keras.utils.set_random_seed(0)

X, y = load_wine(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
y_train_oh = keras.utils.to_categorical(y_train, 3)
y_test_oh = keras.utils.to_categorical(y_test, 3)

model = keras.Sequential(
    [
        keras.Input(shape=(13,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(3, activation="softmax"),
    ]
)
model.compile(
    optimizer=keras.optimizers.SGD(learning_rate=1e-5), loss="categorical_crossentropy", metrics=["accuracy"]
)
model.fit(X_train, y_train_oh, epochs=15, batch_size=16, validation_data=(X_test, y_test_oh), verbose=2)
print("predictions:", np.bincount(model.predict(X_test, verbose=0).argmax(1), minlength=3))
