"""Knowledge distillation on scikit-learn's digits: a teacher MLP is trained on the labels, then a smaller
student learns from the teacher's softened logits (KL divergence at temperature T) plus a little
cross-entropy. Two models, two Adam optimizers; the student is the model judged."""

import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

TEACHER_EPOCHS = 20
STUDENT_EPOCHS = 40
BATCH = 64
LR = 1e-3
STUDENT_LR = 2e-3
T = 4.0  # distillation temperature
ALPHA = 0.9  # weight of the distillation term


def mlp(hidden):
    return nn.Sequential(
        nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10)
    )


def balanced_accuracy(model, X, y):
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(X)).argmax(1).numpy()
    return float(balanced_accuracy_score(y, pred))


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32) / 16.0
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(X_tr), torch.from_numpy(y_tr)),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )

    # 1. teacher
    teacher = mlp(256)
    opt_t = torch.optim.Adam(teacher.parameters(), lr=LR)
    for epoch in range(TEACHER_EPOCHS):
        teacher.train()
        total = 0.0
        for xb, yb in loader:
            opt_t.zero_grad()
            loss = F.cross_entropy(teacher(xb), yb)
            loss.backward()
            opt_t.step()
            total += loss.item() * len(xb)
        if epoch % 5 == 0 or epoch == TEACHER_EPOCHS - 1:
            print(f"[teacher] epoch {epoch:2d}  train loss {total / len(X_tr):.4f}")
    acc_teacher = balanced_accuracy(teacher, X_te, y_te)
    print(f"teacher held-out balanced accuracy {acc_teacher:.3f}")

    # 2. student distilled from the frozen teacher
    teacher.eval()
    student = mlp(32)
    opt_s = torch.optim.Adam(student.parameters(), lr=STUDENT_LR)
    for epoch in range(STUDENT_EPOCHS):
        student.train()
        total = 0.0
        for xb, yb in loader:
            with torch.no_grad():
                t_logits = teacher(xb)
            s_logits = student(xb)
            kd = F.kl_div(
                F.log_softmax(s_logits / T, dim=1), F.softmax(t_logits / T, dim=1), reduction="batchmean"
            )
            loss = ALPHA * kd * T * T + (1 - ALPHA) * F.cross_entropy(s_logits, yb)
            opt_s.zero_grad()
            loss.backward()
            opt_s.step()
            total += loss.item() * len(xb)
        if epoch % 10 == 0 or epoch == STUDENT_EPOCHS - 1:
            print(f"[student] epoch {epoch:2d}  distillation loss {total / len(X_tr):.4f}")
    acc_student = balanced_accuracy(student, X_te, y_te)
    print(f"student held-out balanced accuracy {acc_student:.3f}")

    baseline = 1.0 / 10  # balanced accuracy of always answering the majority class
    # collapsed (the student): held-out balanced accuracy < baseline + 0.1
    collapsed = bool(acc_student < baseline + 0.1)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "two-models",
                "metric": "heldout_balanced_accuracy",
                "value": round(acc_student, 4),
                "baseline": baseline,
                "collapsed": collapsed,
                "teacher_heldout_balanced_accuracy": round(acc_teacher, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
