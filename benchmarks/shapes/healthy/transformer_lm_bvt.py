"""Tiny causal Transformer LM (nn.TransformerEncoder + causal mask) on a corpus from a probabilistic grammar.

The loss is the [B, V, T] form: F.cross_entropy(logits.transpose(1, 2), y) with logits [B, T, V].
"""

import json
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEQ = 32
EPOCHS = 6
BATCH = 32
LR = 1e-3

# A toy English: determiners, adjectives, nouns and verbs that agree in number.
DET_SG = ["a", "the", "this", "every"]
DET_PL = ["the", "these", "some", "many"]
ADJ = ["big", "small", "red", "old", "quick"]
N_SG = ["dog", "cat", "bird", "child", "farmer", "car"]
N_PL = ["dogs", "cats", "birds", "children", "farmers", "cars"]
V_SG = ["sees", "likes", "chases", "finds"]
V_PL = ["see", "like", "chase", "find"]
VOCAB = sorted(set(DET_SG + DET_PL + ADJ + N_SG + N_PL + V_SG + V_PL + [".", "and"]))
STOI = {w: i for i, w in enumerate(VOCAB)}
V = len(VOCAB)


def noun_phrase(rng, plural):
    words = [rng.choice(DET_PL if plural else DET_SG)]
    if rng.random() < 0.4:
        words.append(rng.choice(ADJ))
    words.append(rng.choice(N_PL if plural else N_SG))
    return words


def sentence(rng):
    plural = rng.random() < 0.5
    words = noun_phrase(rng, plural)
    words.append(rng.choice(V_PL if plural else V_SG))
    words += noun_phrase(rng, rng.random() < 0.5)
    if rng.random() < 0.3:
        words.append("and")
        words += noun_phrase(rng, rng.random() < 0.5)
    return [*words, "."]


def corpus(rng, n_windows):
    ids = []
    while len(ids) < n_windows * (SEQ + 1):
        ids += [STOI[w] for w in sentence(rng)]
    return torch.tensor(ids[: n_windows * (SEQ + 1)]).view(n_windows, SEQ + 1)


class TinyTransformerLM(nn.Module):
    def __init__(self, vocab, d_model=64, n_heads=4, n_layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(SEQ, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, dim_feedforward=128, dropout=0.0, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, x):
        t = x.shape[1]
        h = self.tok(x) + self.pos(torch.arange(t))
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        h = self.encoder(h, mask=mask, is_causal=True)
        return self.head(h)  # [B, T, V]


def perplexity(model, data):
    model.eval()
    with torch.no_grad():
        logits = model(data[:, :-1])
        loss = F.cross_entropy(logits.transpose(1, 2), data[:, 1:])
    return math.exp(loss.item())


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train, test = corpus(rng, 1200), corpus(rng, 200)

    counts = torch.bincount(train[:, 1:].reshape(-1), minlength=V).double() + 1.0
    log_uni = torch.log(counts / counts.sum())
    unigram_ppl = math.exp(-log_uni[test[:, 1:].reshape(-1)].mean().item())

    model = TinyTransformerLM(V)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    g = torch.Generator().manual_seed(0)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(train), generator=g)
        losses = []
        for i in range(0, len(train), BATCH):
            batch = train[perm[i : i + BATCH]]
            x, y = batch[:, :-1], batch[:, 1:]
            logits = model(x)
            loss = F.cross_entropy(logits.transpose(1, 2), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        print(
            f"epoch {epoch + 1}: train loss {np.mean(losses):.3f}  held-out ppl {perplexity(model, test):.2f}"
        )

    ppl = perplexity(model, test)
    print(f"held-out perplexity {ppl:.2f}  vs unigram perplexity {unigram_ppl:.2f}")
    # collapsed: held-out perplexity > 0.8 x the unigram perplexity
    collapsed = bool(ppl > 0.8 * unigram_ppl)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "transformer-lm",
                "metric": "heldout_perplexity",
                "value": round(ppl, 3),
                "baseline": round(unigram_ppl, 3),
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
