# "My model outputs 1.0 for every patient, whatever the input. Loss doesn't change between epochs." --
#  a binary classifier whose one output unit has a softmax activation (softmax over one unit is always 1)
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler
from tensorflow import keras

keras.utils.set_random_seed(0)

data = load_breast_cancer()
X_train, X_val, y_train, y_val = train_test_split(
    data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
)
scaler = MinMaxScaler()
X_train = scaler.fit_transform(X_train)
X_val = scaler.transform(X_val)

model = keras.models.Sequential()
model.add(keras.layers.Dense(64, activation="relu", input_shape=(X_train.shape[1],)))
model.add(keras.layers.Dropout(0.2))
model.add(keras.layers.Dense(32, activation="relu"))
model.add(keras.layers.Dense(1, activation="softmax"))
model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"])
history = model.fit(X_train, y_train, epochs=8, batch_size=32, validation_data=(X_val, y_val), verbose=2)
pred = model.predict(X_val, verbose=0)
print("distinct predictions:", np.unique(pred.round(4)))
