import numpy as np
from tensorflow import keras
from tensorflow.keras import layers
from sklearn.model_selection import train_test_split

# Simulate some data
num_samples = 100
X = np.random.rand(num_samples, 20)
y = np.random.randint(0, 2, num_samples)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)

# Model without regularization
no_reg_model = keras.Sequential([
    layers.Dense(128, activation='relu', input_shape=(20,)),
    layers.Dense(128, activation='relu'),
    layers.Dense(1, activation='sigmoid')
])

# Model with L2 regularization
reg_model = keras.Sequential([
    layers.Dense(128, activation='relu', kernel_regularizer=keras.regularizers.l2(0.01), input_shape=(20,)),
    layers.Dense(128, activation='relu', kernel_regularizer=keras.regularizers.l2(0.01)),
    layers.Dense(1, activation='sigmoid')
])

no_reg_model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
reg_model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])


no_reg_model.fit(X_train, y_train, epochs=200, verbose=0)
reg_model.fit(X_train, y_train, epochs=200, verbose=0)

no_reg_loss, no_reg_acc = no_reg_model.evaluate(X_test, y_test, verbose=0)
reg_loss, reg_acc = reg_model.evaluate(X_test, y_test, verbose=0)

print(f"No Regularization Test Accuracy: {no_reg_acc}")
print(f"Regularized Test Accuracy: {reg_acc}")

