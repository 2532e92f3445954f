# "After adding L2 regularisation against overfitting my house-price model predicts the same value for
#  every house. It trains with a manual train_on_batch loop so I can log each batch." -- an L2 factor of
#  5.0 on every kernel: the penalty outweighs the data and pulls the weights (and the output) to a
#  constant
import keras
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

keras.utils.set_random_seed(0)

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
X_scaler = StandardScaler().fit(X_train)
X_train, X_test = X_scaler.transform(X_train), X_scaler.transform(X_test)
y_mean, y_std = y_train.mean(), y_train.std()
y_train_s, y_test_s = (y_train - y_mean) / y_std, (y_test - y_mean) / y_std

l2 = keras.regularizers.l2(5.0)
model = keras.Sequential(
    [
        keras.Input(shape=(10,)),
        keras.layers.Dense(64, activation="relu", kernel_regularizer=l2),
        keras.layers.Dense(32, activation="relu", kernel_regularizer=l2),
        keras.layers.Dense(1, kernel_regularizer=l2),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")

rng = np.random.default_rng(0)
batch_size = 32
for epoch in range(25):
    order = rng.permutation(len(X_train))
    losses = []
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        losses.append(model.train_on_batch(X_train[idx], y_train_s[idx]))
    if epoch % 5 == 0:
        print(f"epoch {epoch}: loss {np.mean(losses):.4f}")
pred = model.predict(X_test, verbose=0).ravel() * y_std + y_mean
print("prediction spread:", pred.std(), "target spread:", y_test.std())
