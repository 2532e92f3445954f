# "Digit classifier trained from a generator gets 100% training accuracy after one epoch but predicts 0
#  for every test image." -- the batch generator scales the labels like the pixels (divides by 16) and
#  casts them to int, so every label becomes 0
import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)


def batch_generator(X, y, batch_size=32):
    rng = np.random.default_rng(0)
    while True:
        idx = rng.permutation(len(X))
        for start in range(0, len(X) - batch_size + 1, batch_size):
            b = idx[start : start + batch_size]
            xb = X[b].astype("float32") / 16.0
            yb = (y[b] / 16.0).astype("int32")  # same preprocessing as the images
            yield xb, yb


X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

model = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
steps = len(X_train) // 32
model.fit(batch_generator(X_train, y_train), steps_per_epoch=steps, epochs=5, verbose=2)
pred = model.predict(X_test.astype("float32") / 16.0, verbose=0).argmax(1)
print("predicted classes on the test set:", np.unique(pred), "accuracy:", (pred == y_test).mean())
