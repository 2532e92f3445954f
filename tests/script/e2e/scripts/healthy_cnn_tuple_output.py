# "My model returns (logits, embedding) for a retrieval head later on -- is the classifier part training
#  properly?" -- a correct CNN on 4-D digit images whose forward returns a tuple (healthy)
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class EmbedNet(nn.Module):
    def __init__(self, n_classes=10, dim=32):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.embed = nn.Linear(32 * 4 * 4, dim)
        self.cls = nn.Linear(dim, n_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.conv2(x))
        emb = F.relu(self.embed(x.flatten(1)))
        return self.cls(emb), emb


if __name__ == "__main__":
    torch.manual_seed(0)
    digits = load_digits()
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)  # [N, 1, 8, 8]
    labels = torch.tensor(digits.target)
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    images, labels = images[perm], labels[perm]
    train_loader = DataLoader(TensorDataset(images[:1400], labels[:1400]), batch_size=64, shuffle=True)
    test_x, test_y = images[1400:], labels[1400:]

    model = EmbedNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for epoch in range(6):
        model.train()
        total = 0.0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            logits, _ = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            optimizer.step()
            total += loss.item()
        model.eval()
        with torch.no_grad():
            logits, _ = model(test_x)
            acc = (logits.argmax(1) == test_y).float().mean().item()
        print(f"epoch {epoch + 1}: loss {total / len(train_loader):.4f}  test acc {acc:.3f}")
