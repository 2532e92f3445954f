# "tf.data pipeline: validation accuracy stays at 10% on the digits dataset no matter what. I shuffle the
#  images and the labels with the same buffer size so they should stay aligned?" -- the features and the
#  labels are shuffled as two separate datasets and then zipped, so every pairing is random
import keras
import tensorflow as tf
from sklearn.datasets import load_digits

keras.utils.set_random_seed(0)

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype("float32")
n_train = 1400

features = tf.data.Dataset.from_tensor_slices(X[:n_train]).shuffle(2000, seed=1)
labels = tf.data.Dataset.from_tensor_slices(y[:n_train]).shuffle(2000, seed=2)
train_ds = tf.data.Dataset.zip((features, labels)).batch(64).prefetch(tf.data.AUTOTUNE)
val_ds = tf.data.Dataset.from_tensor_slices((X[n_train:], y[n_train:])).batch(64)

model = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, epochs=10, validation_data=val_ds, verbose=2)
