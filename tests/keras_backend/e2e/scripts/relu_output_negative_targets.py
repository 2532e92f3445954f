# "My regression model predicts 0 for half of the houses, the loss plateaus at 0.5. Targets are
#  standardised like everybody recommends." -- a ReLU on the output layer of a regression whose
#  (standardised) targets are negative half the time
import keras
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

keras.utils.set_random_seed(0)

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
x_scaler = StandardScaler().fit(X_train)
y_mean, y_std = y_train.mean(), y_train.std()
X_train, X_test = x_scaler.transform(X_train), x_scaler.transform(X_test)
y_train, y_test = (y_train - y_mean) / y_std, (y_test - y_mean) / y_std

model = keras.Sequential(
    [
        keras.Input(shape=(10,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="relu"),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", metrics=["mae"])
model.fit(X_train, y_train, epochs=30, batch_size=32, validation_data=(X_test, y_test), verbose=0)
pred = model.predict(X_test, verbose=0).ravel()
print(
    "test mse:", float(np.mean((pred - y_test) ** 2)), "share of zero predictions:", float(np.mean(pred == 0))
)
