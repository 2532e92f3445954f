# "Training on digits is really slow to converge and the loss never gets below 1.5, even though accuracy
#  looks okay-ish." -- a softmax output layer fed to SparseCategoricalCrossentropy(from_logits=True),
#  so the softmax is applied twice
import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)

digits = load_digits()
X = digits.images.reshape(len(digits.images), -1) / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, digits.target, test_size=0.2, random_state=0)

model = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
model.compile(
    optimizer=keras.optimizers.Adam(1e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
model.fit(X_train, y_train, epochs=8, batch_size=32, validation_data=(X_test, y_test), verbose=2)
print("mean max probability:", float(np.max(model.predict(X_test, verbose=0), axis=1).mean()))
