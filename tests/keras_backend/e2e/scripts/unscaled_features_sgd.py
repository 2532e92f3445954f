# "Keras model predicts the same class for every sample on the breast cancer dataset. Logistic regression
#  from sklearn gets 95% on the same data!" -- the raw features (areas in the thousands next to
#  smoothness values around 0.1) go into the network unscaled, trained with plain SGD
import keras
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
print("feature ranges:", X_train.min(), X_train.max())

model = keras.Sequential(
    [
        keras.Input(shape=(30,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(
    optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="binary_crossentropy", metrics=["accuracy"]
)
model.fit(X_train, y_train, epochs=10, batch_size=32, verbose=2)
pred = (model.predict(X_test, verbose=0) > 0.5).astype(int).ravel()
print("predicted classes:", np.bincount(pred, minlength=2), "accuracy:", (pred == y_test).mean())
