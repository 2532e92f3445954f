# "My network outputs exactly 0.0 for every house, the loss never moves. The target is log(price in
#  millions), I put a ReLU at the end like the other layers." -- ReLU output head, all-negative targets
import numpy as np
import torch
from torch import nn

rng = np.random.default_rng(7)
n = 1500
area = rng.uniform(40, 250, n)  # square metres
rooms = rng.integers(1, 7, n)
age = rng.uniform(0, 80, n)
dist = rng.uniform(0.5, 30, n)  # km to the centre
price_millions = 0.004 * area * (1.1**rooms) * np.exp(-0.004 * age) * np.exp(-0.03 * dist)
price_millions *= np.exp(rng.normal(0, 0.1, n))
target = np.log(price_millions)  # negative: almost every price is below one million

features = np.stack([area, rooms, age, dist], axis=1)
features = (features - features.mean(0)) / features.std(0)

X = torch.tensor(features, dtype=torch.float32)
Y = torch.tensor(target, dtype=torch.float32).unsqueeze(1)
X_train, Y_train, X_val, Y_val = X[:1200], Y[:1200], X[1200:], Y[1200:]


class PriceModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(4, 32),
            nn.ReLU(),
            nn.Linear(32, 32),
            nn.ReLU(),
            nn.Linear(32, 1),
            nn.ReLU(),
        )

    def forward(self, x):
        return self.net(x)


if __name__ == "__main__":
    torch.manual_seed(0)
    model = PriceModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.MSELoss()
    batch_size = 64
    print(f"target range: {target.min():.2f} .. {target.max():.2f}")
    for epoch in range(20):
        perm = torch.randperm(len(X_train))
        epoch_loss = 0.0
        for i in range(0, len(X_train), batch_size):
            b = perm[i : i + batch_size]
            optimizer.zero_grad()
            loss = criterion(model(X_train[b]), Y_train[b])
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item() * len(b)
        with torch.no_grad():
            val_loss = criterion(model(X_val), Y_val).item()
        print(f"Epoch {epoch}: train MSE {epoch_loss / len(X_train):.4f}, val MSE {val_loss:.4f}")
