# "My model only ever predicts 0. Training loss goes to ~0.0 really fast, which looked great, but on the
#  test set every prediction is the digit 0." -- next(iter(loader)) each step with shuffle=False on data
#  stored class by class: the model only ever sees the first batch
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, Dataset


class DigitFolderDataset(Dataset):
    """Mimics an ImageFolder: samples are stored one class after the other."""

    def __init__(self, images, labels):
        order = np.argsort(labels, kind="stable")
        self.images = images[order].astype(np.float32) / 16.0
        self.labels = labels[order]

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return torch.from_numpy(self.images[i]), int(self.labels[i])


def main():
    torch.manual_seed(0)
    digits = load_digits()
    n_train = 1500
    train_set = DigitFolderDataset(digits.data[:n_train], digits.target[:n_train])
    test_x = torch.tensor(digits.data[n_train:] / 16.0, dtype=torch.float32)
    test_y = torch.tensor(digits.target[n_train:])
    train_loader = DataLoader(train_set, batch_size=64, shuffle=False)

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps_per_epoch = len(train_loader)

    for epoch in range(8):
        running = 0.0
        for _ in range(steps_per_epoch):
            images, labels = next(iter(train_loader))
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            running += loss.item()
        with torch.no_grad():
            acc = (model(test_x).argmax(1) == test_y).float().mean().item()
        print(f"[epoch {epoch}] loss: {running / steps_per_epoch:.4f}  test acc: {acc:.3f}")


if __name__ == "__main__":
    main()
