# "All my hidden neurons have exactly the same weights after training and the model is no better than
#  guessing. I initialised with zeros so the runs would be reproducible." -- kernel_initializer="zeros"
#  on every hidden layer: the units start identical and stay identical
import keras
import numpy as np
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)

X, y = make_moons(n_samples=1000, noise=0.2, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

model = keras.Sequential(
    [
        keras.Input(shape=(2,)),
        keras.layers.Dense(32, activation="tanh", kernel_initializer="zeros"),
        keras.layers.Dense(32, activation="tanh", kernel_initializer="zeros"),
        keras.layers.Dense(1, activation="sigmoid", kernel_initializer="zeros"),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=20, batch_size=32, verbose=2)
w = model.layers[0].get_weights()[0]
print("distinct hidden units:", len(np.unique(w.round(6), axis=1)))
print("test accuracy:", model.evaluate(X_test, y_test, verbose=0)[1])
