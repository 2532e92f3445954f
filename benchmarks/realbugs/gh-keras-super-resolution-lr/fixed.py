"""
SRCNN-style super resolution (port of kcct-fujimotolab/keras-super-resolution
train.py at the parent of commit a7616b6, DeepFD row 53).
The original trains on a folder of photos resized to 128x128; no photos can be
downloaded here, so small synthetic smooth colour images stand in.
"""
import numpy as np
import keras
from keras.optimizers import SGD, Adam
from keras.models import Sequential
from keras.layers import Activation, Dense, Reshape
from keras.layers import Conv2D

keras.utils.set_random_seed(0)


def build_model(input_size):
    input_shape = (input_size[0], input_size[1], 3)
    model = Sequential()
    model.add(keras.Input(shape=input_shape))
    model.add(Conv2D(128, kernel_size=(3, 3), padding='same'))
    model.add(Activation('relu'))
    model.add(Conv2D(64, kernel_size=(3, 3), padding='same'))
    model.add(Activation('relu'))
    model.add(Conv2D(3, kernel_size=(3, 3), padding='same'))
    model.add(Activation('sigmoid'))
    return model


def synthetic_images(n, size, rng):
    """Smooth random colour images in [0, 255] (sums of random sinusoids + blobs)."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w] / float(h)
    imgs = np.zeros((n, h, w, 3))
    for i in range(n):
        for c in range(3):
            img = np.zeros((h, w))
            for _ in range(3):
                fx, fy = rng.uniform(0.5, 3.0, size=2)
                ph = rng.uniform(0, 2 * np.pi)
                img += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * (fx * xx + fy * yy) + ph)
            cx, cy = rng.uniform(0, 1, size=2)
            img += 1.5 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 0.02)
            img = (img - img.min()) / (img.max() - img.min() + 1e-8)
            imgs[i, :, :, c] = img
    return (imgs * 255).astype(np.uint8)


def load_images(images, size):
    """x: image shrunk to half size then enlarged back (nearest); y: the image. Both / 255."""
    h, w = size
    y_images = images.astype(np.float64)
    small = y_images.reshape(len(images), h // 2, 2, w // 2, 2, 3).mean(axis=(2, 4))
    x_images = np.repeat(np.repeat(small, 2, axis=1), 2, axis=2)
    # 256階調のデータを0-1の範囲に正規化する
    return x_images / 255, y_images / 255


def main():
    size = (12, 12)  # original: (128, 128)
    rng = np.random.RandomState(0)
    x_images, y_images = load_images(synthetic_images(96, size, rng), size)
    x_test, y_test = load_images(synthetic_images(64, size, rng), size)
    model = build_model(size)
    optimizer = Adam(learning_rate=0.001)  # FIX (benchmark)
    model.compile(loss='mse', optimizer=optimizer)  # FIX (benchmark)
    model.fit(x_images, y_images, batch_size=64, epochs=50, verbose=0)
    eva = model.evaluate(x_test, y_test, batch_size=64, verbose=0)
    print('test loss', eva)
    pred = model.predict(x_test, verbose=0)
    r2 = 1 - np.sum((y_test - pred) ** 2) / np.sum((y_test - y_test.mean()) ** 2)
    print('REALBUG r2 %.4f' % r2)


if __name__ == '__main__':
    main()
