# "98% accuracy on churn prediction, but recall for the churn class is 0: it never predicts that a
#  customer will leave." -- a 95/5 class imbalance with a weak (but real) signal, trained without class
#  weights or resampling
import keras
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

keras.utils.set_random_seed(0)


def load_customers(n=4000, churn_rate=0.05, seed=0):
    rng = np.random.default_rng(seed)
    churned = (rng.random(n) < churn_rate).astype("int64")
    tenure_months = rng.gamma(4.0, 8.0, n) * (1 - 0.35 * churned)
    monthly_charges = rng.normal(65, 20, n) + 16 * churned
    support_calls = rng.poisson(1.5 + 1.2 * churned)
    other = rng.normal(size=(n, 7))
    X = np.column_stack([tenure_months, monthly_charges, support_calls, other])
    return X, churned


X, y = load_customers()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
print("churn share:", y_train.mean())

model = keras.Sequential(
    [
        keras.Input(shape=(10,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy", keras.metrics.Recall()])
model.fit(X_train, y_train, epochs=6, batch_size=64, validation_data=(X_test, y_test), verbose=2)
pred = (model.predict(X_test, verbose=0) > 0.5).astype(int).ravel()
print("predicted churners:", pred.sum(), "of", len(pred), "actual:", y_test.sum())
