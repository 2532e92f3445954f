"""
Facial keypoints detection, single hidden layer version
(port of FacialKeypointsDetection/src/1_single_hidden_layer.py, DeepFD row 49 /
DeepLocalize Benchmark/GitHub/*/FacialKeypointsDetection).
The Kaggle face images cannot be downloaded here; synthetic 32x32 "faces"
(15 keypoints rendered as blobs, position/scale/pose varying) stand in.
"""
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense
from keras import optimizers
from keras.optimizers import Adam

keras.utils.set_random_seed(0)

IMG = 32
# 15 keypoints template (x, y) in a unit face: eyes (centre, inner, outer), brows, nose, mouth
TEMPLATE = np.array([
    [-0.35, -0.25], [0.35, -0.25],            # eye centres
    [-0.20, -0.25], [-0.50, -0.25],           # left eye inner/outer
    [0.20, -0.25], [0.50, -0.25],             # right eye inner/outer
    [-0.20, -0.45], [-0.55, -0.45],           # left brow inner/outer
    [0.20, -0.45], [0.55, -0.45],             # right brow inner/outer
    [0.0, 0.05],                              # nose tip
    [-0.30, 0.40], [0.30, 0.40],              # mouth corners
    [0.0, 0.30], [0.0, 0.52],                 # top / bottom lip
])


def make_faces(n, rng):
    yy, xx = np.mgrid[0:IMG, 0:IMG]
    X = np.zeros((n, IMG * IMG), dtype=np.float32)
    y = np.zeros((n, 30), dtype=np.float32)
    for i in range(n):
        cx, cy = rng.uniform(12, 20, size=2)
        s = rng.uniform(8, 12)
        rot = rng.uniform(-0.25, 0.25)
        R = np.array([[np.cos(rot), -np.sin(rot)], [np.sin(rot), np.cos(rot)]])
        pts = (TEMPLATE @ R.T) * s + np.array([cx, cy])
        pts += rng.normal(0, 0.4, pts.shape)
        img = 0.3 * np.exp(-(((xx - cx) / (s * 0.9)) ** 2 + ((yy - cy) / (s * 1.1)) ** 2))
        for (px, py) in pts:
            img += np.exp(-((xx - px) ** 2 + (yy - py) ** 2) / 2.0)
        img += rng.normal(0, 0.05, img.shape)
        X[i] = np.clip(img / img.max(), 0, 1).ravel()   # pixel values in [0, 1]
        y[i] = ((pts.ravel() - IMG / 2) / (IMG / 2))      # coordinates scaled to [-1, 1]
    return X, y


rng = np.random.RandomState(42)
X, y = make_faces(1000, rng)
X_train, y_train = X[:640], y[:640]
X_test, y_test = X[640:], y[640:]
print("X.shape == {}; X.min == {:.3f}; X.max == {:.3f}".format(X.shape, X.min(), X.max()))
print("y.shape == {}; y.min == {:.3f}; y.max == {:.3f}".format(y.shape, y.min(), y.max()))

epoch = 10  # FAULT (benchmark)  (original: epoch=100; scaled 1/10 for the time limit)

# Version - Single Hidden Layer
model = Sequential()
model.add(keras.Input(shape=(IMG * IMG,)))
model.add(Dense(50))  # Input batches of pixels
model.add(Dense(100))
model.add(Dense(30))  # 30 to represent 30 facial keypoints.

sgd = optimizers.SGD(learning_rate=keras.optimizers.schedules.InverseTimeDecay(0.01, decay_steps=1, decay_rate=1e-6), momentum=0.9, nesterov=True, clipnorm=1)
model.compile(Adam(learning_rate=0.1), 'mean_squared_error') #, metrics=['accuracy'])  # FAULT (benchmark)

model.fit(X_train, y_train, epochs=epoch, verbose=0)

pred = model.predict(X_test, verbose=0)
ss_res = np.sum((y_test - pred) ** 2)
ss_tot = np.sum((y_test - y_test.mean(axis=0)) ** 2)
print("test mse", float(np.mean((y_test - pred) ** 2)))
print("REALBUG r2 %.4f" % (1 - ss_res / ss_tot))
