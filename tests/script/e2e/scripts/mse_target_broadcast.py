# "My regression net predicts the same value for every patient, no matter what I feed it. Loss goes down a
#  little and then flattens. There is a UserWarning about target size I've been ignoring."
#  -- MSELoss on an [n, 1] output and an [n] target broadcasts to [n, n]
import numpy as np
import torch
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(1)
np.random.seed(1)

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X).astype(np.float32)
y = ((y - y.mean()) / y.std()).astype(np.float32)

idx = np.random.permutation(len(X))
train_idx, test_idx = idx[:350], idx[350:]
train_ds = TensorDataset(torch.from_numpy(X[train_idx]), torch.from_numpy(y[train_idx]))
test_x, test_y = torch.from_numpy(X[test_idx]), torch.from_numpy(y[test_idx])
train_loader = DataLoader(train_ds, batch_size=32, shuffle=True)

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
loss_fn = nn.MSELoss()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)

if __name__ == "__main__":
    for epoch in range(30):
        running = 0.0
        for xb, yb in train_loader:
            pred = model(xb)  # shape [batch, 1]
            loss = loss_fn(pred, yb)  # yb has shape [batch]
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += loss.item()
        if epoch % 5 == 4:
            with torch.no_grad():
                val = loss_fn(model(test_x), test_y).item()
            print(f"epoch {epoch + 1} train loss {running / len(train_loader):.4f} val loss {val:.4f}")
