# "loss.backward() raised 'element 0 of tensors does not require grad' when I averaged my losses, so I
#  wrapped it in torch.tensor(..., requires_grad=True). Now it runs but accuracy stays at chance and the
#  model says class 1 for every wine." -- the loss is rebuilt from .item(), no gradient reaches the model
import torch
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class WineClassifier(nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, n_classes)
        )

    def forward(self, x):
        return self.layers(x)


def train():
    torch.manual_seed(3)
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ds = TensorDataset(torch.tensor(X, dtype=torch.float32), torch.tensor(y))
    train_ds, val_ds = torch.utils.data.random_split(
        ds, [140, 38], generator=torch.Generator().manual_seed(0)
    )
    train_loader = DataLoader(train_ds, batch_size=16, shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=64)

    model = WineClassifier(13, 3)
    criterion = nn.CrossEntropyLoss(reduction="none")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    for epoch in range(20):
        model.train()
        epoch_loss = 0.0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            per_sample = criterion(model(xb), yb)
            loss = torch.tensor(per_sample.mean().item(), requires_grad=True)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()
        model.eval()
        correct = 0
        with torch.no_grad():
            for xb, yb in val_loader:
                correct += (model(xb).argmax(dim=1) == yb).sum().item()
        print(f"epoch {epoch + 1:2d} loss {epoch_loss / len(train_loader):.4f} val acc {correct / 38:.2f}")


if __name__ == "__main__":
    train()
