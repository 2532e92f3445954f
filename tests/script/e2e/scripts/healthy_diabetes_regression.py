# "Diabetes progression regression -- R^2 is fine, just want to know nothing is silently broken."
#  -- a correct regression script: standardised target, [n, 1] output vs [n, 1] target (healthy)
import numpy as np
import torch
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch import nn

torch.manual_seed(0)

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
x_scaler = StandardScaler().fit(X_train)
y_mean, y_std = y_train.mean(), y_train.std()

Xtr = torch.tensor(x_scaler.transform(X_train), dtype=torch.float32)
Xte = torch.tensor(x_scaler.transform(X_test), dtype=torch.float32)
ytr = torch.tensor((y_train - y_mean) / y_std, dtype=torch.float32).view(-1, 1)
yte = torch.tensor((y_test - y_mean) / y_std, dtype=torch.float32).view(-1, 1)

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.MSELoss()


def r2(pred, target):
    return 1 - ((pred - target) ** 2).sum() / ((target - target.mean()) ** 2).sum()


if __name__ == "__main__":
    batch = 32
    for epoch in range(40):
        model.train()
        perm = torch.randperm(len(Xtr))
        losses = []
        for i in range(0, len(Xtr), batch):
            idx = perm[i : i + batch]
            optimizer.zero_grad()
            loss = criterion(model(Xtr[idx]), ytr[idx])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            test_pred = model(Xte)
        if epoch % 10 == 9:
            print(f"epoch {epoch + 1}: train mse {np.mean(losses):.4f}  test R^2 {r2(test_pred, yte):.3f}")
