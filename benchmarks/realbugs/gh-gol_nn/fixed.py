"""
Training neural network to play Conway's Game of Life
(port of gol_nn, DeepFD row 48 / DeepLocalize Benchmark/GitHub/gol_nn)
"""
import numpy as np
import keras

keras.utils.set_random_seed(0)


def generate_field(shape, alive_prob=0.5):
    return (np.random.rand(*shape) < alive_prob).astype(np.int32)


def update_field(field, hw_axis=(1, 2)):
    h_ax, w_ax = hw_axis
    neighbours = np.zeros(field.shape, dtype=np.int32)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if not (dx or dy):
                continue
            neighbours += np.roll(np.roll(field, dx, w_ax), dy, h_ax)
    return np.logical_or(
        neighbours == 3,
        np.logical_and(field, neighbours == 2)
    ).astype(np.int32)


def pad_field(field):
    return np.pad(field, ((0, 0), (1, 1), (1, 1), (0, 0)), mode='wrap')


def generate_dataset(num_samples, height, width, alive_prob=0.5):
    shape = (num_samples, height, width, 1)
    X = generate_field(shape, alive_prob)
    y = update_field(X)
    return X, y


def life_nn(
        height,
        width,
        num_filters=10,
        num_channels=20,
        loss='mse',  # FIX (benchmark)
        optimizer=keras.optimizers.Adam(learning_rate=0.01)  # FIX (benchmark)
    ):
    model = keras.models.Sequential([
        keras.Input(shape=(height + 2, width + 2) + (1,)),
        keras.layers.Conv2D(num_filters, kernel_size=(3, 3), strides=(1, 1),
                            padding="valid", use_bias=True, activation='relu',
                            name='conv1_3x3'),
        keras.layers.Conv2D(num_channels, kernel_size=(1, 1), strides=(1, 1),
                            padding="same", use_bias=True, activation='relu',
                            name='conv2_1x1'),
        keras.layers.Conv2D(1, kernel_size=(1, 1), strides=(1, 1),
                            padding="same", use_bias=True, activation='sigmoid',
                            name='conv3_1x1'),
    ])
    model.compile(loss=loss, optimizer=optimizer, metrics=['accuracy'])
    return model


def train(model, X_train, y_train, X_val, y_val, batch_size=64, epochs=1):
    X_train_padded = pad_field(X_train)
    X_val_padded = pad_field(X_val)
    model.fit(X_train_padded, y_train,
              batch_size=batch_size,
              epochs=epochs,
              validation_data=(X_val_padded, y_val), verbose=0)


def evaluate(model, X_test, y_test, batch_size=64):
    X_test_padded = pad_field(X_test)
    return model.evaluate(X_test_padded, y_test, batch_size=batch_size, verbose=0)


if __name__ == '__main__':
    height = 3
    width = 3
    model = life_nn(height, width)

    num_train_samples = 4000  # original 8000; halved for the 20 s limit
    num_val_samples = 1000  # original 2000
    X_train, y_train = generate_dataset(num_train_samples, height, width)
    X_val, y_val = generate_dataset(num_val_samples, height, width)

    train(model, X_train, y_train, X_val, y_val, epochs=10)  # FIX (benchmark)

    X_test, y_test = generate_dataset(2000, height, width)
    loss, acc = evaluate(model, X_test, y_test)
    print('test loss', loss)
    print('REALBUG accuracy %.4f' % acc)
