# "Digits classifier in Keras: loss starts at 7-8 and accuracy hovers far below what sklearn's
#  LogisticRegression gets. The tutorial I followed had the same model." -- the last Dense(10) has no
#  softmax, but the loss is the string "sparse_categorical_crossentropy" (from_logits=False), so Keras
#  treats the raw scores as probabilities and clips the negative ones
import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

model = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10),
    ]
)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=8, batch_size=32, verbose=2)
pred = model.predict(X_test, verbose=0).argmax(1)
print("test accuracy:", (pred == y_test).mean(), "predictions per class:", np.bincount(pred, minlength=10))
