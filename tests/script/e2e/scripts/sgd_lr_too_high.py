# "Loss is nan after the first few batches / the model predicts one class for every tumour. I read that
#  a bigger learning rate trains faster so I set lr=10." -- learning rate far too high for SGD
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

LR = 10.0
EPOCHS = 10


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.head = nn.Linear(64, 2)

    def forward(self, x):
        return self.head(self.hidden(x))


if __name__ == "__main__":
    torch.manual_seed(0)
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=1)
    scaler = StandardScaler()
    X_train = torch.FloatTensor(scaler.fit_transform(X_train))
    X_test = torch.FloatTensor(scaler.transform(X_test))
    y_train, y_test = torch.LongTensor(y_train), torch.LongTensor(y_test)

    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True)
    net = Classifier()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    for epoch in range(EPOCHS):
        net.train()
        epoch_loss = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(net(xb), yb)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()
        net.eval()
        with torch.no_grad():
            preds = net(X_test).argmax(1)
        print(
            f"epoch {epoch}: loss {epoch_loss / len(loader):.4f}, "
            f"test acc {(preds == y_test).float().mean():.3f}, distinct preds {preds.unique().tolist()}"
        )
