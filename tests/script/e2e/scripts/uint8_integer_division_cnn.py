# "My CNN predicts the same digit for every image. I normalise the images to [0, 1] like the tutorial,
#  loss is stuck at 2.30." -- `img // 255` on uint8 pixels is integer division: every pixel becomes 0
import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, Dataset


class DigitImages(Dataset):
    def __init__(self, images, labels):
        # the scans come as 8-bit greyscale, like decoded PNGs (the scanner's white level is 240)
        self.images = (images * 15).astype(np.uint8)
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        img = torch.from_numpy(self.images[idx]).unsqueeze(0)  # [1, 8, 8], uint8
        img = img // 255  # scale to [0, 1]
        return img.float(), int(self.labels[idx])


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


if __name__ == "__main__":
    torch.manual_seed(0)
    digits = load_digits()
    train_set = DigitImages(digits.images[:1400], digits.target[:1400])
    val_set = DigitImages(digits.images[1400:], digits.target[1400:])
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=128)

    model = SmallCNN()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(4):
        model.train()
        total_loss = 0.0
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for images, labels in val_loader:
                correct += (model(images).argmax(1) == labels).sum().item()
                total += len(labels)
        print(f"Epoch {epoch + 1}, loss {total_loss / len(train_loader):.4f}, val acc {correct / total:.3f}")
