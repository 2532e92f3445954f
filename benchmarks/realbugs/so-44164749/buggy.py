# Port of StackOverflow 44164749 (DeepFD / DeepLocalize benchmark): MLP on MNIST with SGD.
# MNIST stands in as scikit-learn's bundled 8x8 digits (flattened, scaled to [0, 1]).
import keras
from keras.models import Sequential
from keras.layers import Dense, Dropout, Activation
from keras.optimizers import SGD
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)

# import data
digits = load_digits()
x = digits.data.astype('float32') / 16.0
y = digits.target
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
print('x_train shape:', x_train.shape)

# convert class vectors to binary class matrices
num_classes = 10
batch_size = 2000
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(keras.Input(shape=(x_train.shape[1],)))
model.add(Dense(1000))  # 5000 in the post; shrunk for the 20 s CPU limit
model.add(Activation('relu'))
model.add(Dropout(0.1))
model.add(Dense(600))
model.add(Activation('relu'))
model.add(Dropout(0.1))
model.add(Dense(y_train.shape[1]))
model.add(Activation('softmax'))

sgd = SGD(learning_rate=0.01, decay=1e-6, momentum=0.9, nesterov=True)  # FAULT (benchmark)

model.compile(loss='categorical_crossentropy',
              optimizer=sgd,
              metrics=['accuracy',])

epochs = 5  # FAULT (benchmark)
model.fit(x_train, y_train, epochs=epochs, batch_size=2000, verbose=0)
score = model.evaluate(x_test, y_test, batch_size=2000, verbose=0)
print(score)
acc = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == np.argmax(y_test, axis=1)))
print("REALBUG accuracy %.4f" % acc)
