# BUG: inputs and targets shuffled by two separate shuffles: no signal left -- expected: data.no_signal
"""GRU next-token language model on a generated corpus, padded batches, flat cross-entropy with ignore_index.

The corpus is a second-order Markov chain over 30 tokens: each pair of previous tokens allows only a few
next tokens, so context matters and a good model's perplexity is far below the unigram one.
"""

import json
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

PAD = 0
N_TOKENS = 30  # real tokens are 1..30
V = N_TOKENS + 1
MAX_LEN = 32
EPOCHS = 6
BATCH = 32


def make_chain(rng):
    """For every context (a, b): 3 allowed next tokens with Dirichlet probabilities."""
    nxt = rng.integers(1, V, size=(V, V, 3))
    probs = rng.dirichlet(np.ones(3) * 0.7, size=(V, V))
    return nxt, probs


def sample_corpus(rng, chain, n):
    nxt, probs = chain
    seqs = np.full((n, MAX_LEN), PAD, dtype=np.int64)
    for i in range(n):
        length = rng.integers(12, MAX_LEN + 1)
        s = list(rng.integers(1, V, size=2))
        while len(s) < length:
            a, b = s[-2], s[-1]
            s.append(nxt[a, b, rng.choice(3, p=probs[a, b])])
        seqs[i, :length] = s
    return seqs


class GRULM(nn.Module):
    def __init__(self, vocab, emb=32, hidden=64):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.gru = nn.GRU(emb, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x):
        h, _ = self.gru(self.embed(x))
        return self.head(h)


def perplexity(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(x)
        nll = F.cross_entropy(logits.view(-1, V), y.view(-1), ignore_index=PAD, reduction="sum")
    return math.exp(nll.item() / (y != PAD).sum().item())


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    chain = make_chain(rng)
    train, test = sample_corpus(rng, chain, 1500), sample_corpus(rng, chain, 300)
    x_tr, y_tr = train[:, :-1].copy(), train[:, 1:].copy()
    x_te, y_te = torch.from_numpy(test[:, :-1].copy()), torch.from_numpy(test[:, 1:].copy())
    rng.shuffle(x_tr)
    rng.shuffle(y_tr)

    # unigram model from the training targets: the collapsed LM that ignores its context
    counts = np.bincount(y_tr[y_tr != PAD], minlength=V).astype(np.float64) + 1.0
    counts[PAD] = 0.0
    p_uni = counts / counts.sum()
    t = y_te.numpy()
    unigram_ppl = math.exp(-np.log(p_uni[t[t != PAD]]).mean())

    loader = DataLoader(
        TensorDataset(torch.from_numpy(x_tr), torch.from_numpy(y_tr)),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    model = GRULM(V)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(EPOCHS):
        model.train()
        total, n = 0.0, 0
        for x, y in loader:
            logits = model(x)
            loss = F.cross_entropy(logits.view(-1, V), y.view(-1), ignore_index=PAD)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item()
            n += 1
        print(
            f"epoch {epoch + 1}  train loss {total / n:.3f}  held-out ppl {perplexity(model, x_te, y_te):.2f}"
        )

    ppl = perplexity(model, x_te, y_te)
    print(f"held-out perplexity {ppl:.2f}  (unigram perplexity {unigram_ppl:.2f})")
    # collapsed: held-out perplexity > 0.8 x the unigram perplexity
    collapsed = bool(ppl > 0.8 * unigram_ppl)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "gru-lm",
                "metric": "heldout_perplexity",
                "value": round(ppl, 3),
                "baseline": round(unigram_ppl, 3),
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
