# "First Keras model with tf.data: is this set up correctly?" -- a correct binary classifier on two
#  circles fed through a batched, shuffled tf.data pipeline (healthy)
import tensorflow as tf
from sklearn.datasets import make_circles
from sklearn.model_selection import train_test_split
from tensorflow import keras

keras.utils.set_random_seed(0)

X, y = make_circles(n_samples=2000, noise=0.08, factor=0.5, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X.astype("float32"), y.astype("float32"), test_size=0.2, random_state=0
)

train_ds = (
    tf.data.Dataset.from_tensor_slices((X_train, y_train))
    .shuffle(len(X_train), seed=0)
    .batch(32)
    .prefetch(tf.data.AUTOTUNE)
)
test_ds = tf.data.Dataset.from_tensor_slices((X_test, y_test)).batch(128)

model = keras.Sequential(
    [
        keras.layers.Input(shape=(2,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(train_ds, epochs=10, validation_data=test_ds, verbose=2)
print("test accuracy:", model.evaluate(test_ds, verbose=0)[1])
