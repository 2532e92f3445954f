# "Binary classifier on the breast cancer data: loss is 0.0000 from the very first epoch and accuracy is
#  stuck at 37%. Everything is scaled. What is wrong?" -- one sigmoid unit trained with
#  categorical_crossentropy (Keras normalises the single output to 1.0, so the loss is always zero)
import keras
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

keras.utils.set_random_seed(0)

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

model = keras.Sequential(
    [
        keras.Input(shape=(30,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=10, batch_size=32, validation_data=(X_test, y_test), verbose=2)
print("test accuracy:", model.evaluate(X_test, y_test, verbose=0)[1])
