# "Adding weight decay made my model output the same class probabilities for every input. Without it it
#  overfits, with weight_decay=1.0 it predicts class 1 for every wine." -- weight_decay far too large
import torch
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, random_split


def build_model():
    return nn.Sequential(
        nn.Linear(13, 64),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(64, 64),
        nn.ReLU(),
        nn.Linear(64, 3),
    )


def main():
    torch.manual_seed(0)
    X, y = load_wine(return_X_y=True)
    X = torch.tensor(StandardScaler().fit_transform(X), dtype=torch.float32)
    full = TensorDataset(X, torch.tensor(y))
    train_ds, val_ds = random_split(full, [142, 36], generator=torch.Generator().manual_seed(0))
    train_dl = DataLoader(train_ds, batch_size=16, shuffle=True)
    val_dl = DataLoader(val_ds, batch_size=36)

    model = build_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1.0)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(25):
        model.train()
        loss_sum = 0.0
        for xb, yb in train_dl:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
        model.eval()
        with torch.no_grad():
            xb, yb = next(iter(val_dl))
            val_acc = (model(xb).argmax(1) == yb).float().mean().item()
        if epoch % 5 == 0:
            print(f"epoch {epoch}: train loss {loss_sum / len(train_dl):.4f}, val acc {val_acc:.3f}")


if __name__ == "__main__":
    main()
