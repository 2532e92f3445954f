import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

# Simulate unbalanced data (90% class 0, 10% class 1)
num_samples = 1000
X_train = np.random.rand(num_samples, 28, 28, 3)
y_train = np.concatenate([np.zeros(int(num_samples * 0.9)), np.ones(int(num_samples * 0.1))])

# shuffle the training data
p = np.random.permutation(len(X_train))
X_train = X_train[p]
y_train = y_train[p]

# create model
model = keras.Sequential([
    layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 3)),
    layers.MaxPooling2D((2, 2)),
    layers.Flatten(),
    layers.Dense(1, activation='sigmoid')
])

model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
model.fit(X_train, y_train, epochs=10, verbose=0)

# Test with class 1 (ideally should classify correctly)
test_image = np.random.rand(1, 28, 28, 3)
print(f"Output for sample from class 1 : {model.predict(test_image)[0]}")
# Test with class 0
test_image = np.random.rand(1, 28, 28, 3)
print(f"Output for sample from class 0 : {model.predict(test_image)[0]}")
