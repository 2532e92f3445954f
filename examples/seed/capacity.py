import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

# Generate some sample data
num_samples = 100
X_train = np.random.rand(num_samples, 10) # 10 features
y_train = np.random.randint(0, 2, num_samples)  # binary classification (0 or 1)

# Simple model with a very small number of neurons
bad_model = keras.Sequential([
    layers.Dense(1, activation='sigmoid', input_shape=(10,))
])

# Slightly more complex model
better_model = keras.Sequential([
    layers.Dense(16, activation='relu', input_shape=(10,)),
    layers.Dense(1, activation='sigmoid')
])

bad_model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
better_model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])


bad_model.fit(X_train, y_train, epochs=100, verbose=0)
better_model.fit(X_train, y_train, epochs=100, verbose=0)

# Predict with both models
test_data = np.random.rand(1, 10)
bad_pred = bad_model.predict(test_data)[0]
better_pred = better_model.predict(test_data)[0]

print(f"Bad Model Prediction: {bad_pred}")
print(f"Better Model Prediction: {better_pred}")
