# BUG: decoder starts from zeros, not the encoder state: ignores the source -- expected: model.capacity
"""Encoder-decoder GRU that learns to reverse short token sequences, trained with teacher forcing.

Sources are 4-8 random tokens; the target is the source reversed, then EOS. Evaluated by greedy decoding
on held-out sequences: token accuracy over the target positions.
"""

import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, BOS, EOS = 0, 1, 2
N_SYMBOLS = 16  # real tokens 3..18
V = N_SYMBOLS + 3
MIN_LEN, MAX_LEN = 4, 8
EPOCHS = 8
BATCH = 64


def make_pairs(rng, n):
    src = np.full((n, MAX_LEN), PAD, dtype=np.int64)
    tgt = np.full((n, MAX_LEN + 1), PAD, dtype=np.int64)
    for i in range(n):
        length = rng.integers(MIN_LEN, MAX_LEN + 1)
        s = rng.integers(3, V, size=length)
        src[i, :length] = s
        tgt[i, :length] = s[::-1]
        tgt[i, length] = EOS
    return torch.from_numpy(src), torch.from_numpy(tgt)


class Seq2Seq(nn.Module):
    def __init__(self, vocab, emb=32, hidden=128):
        super().__init__()
        self.src_embed = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.encoder = nn.GRU(emb, hidden, batch_first=True)
        self.decoder = nn.GRU(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def encode(self, src):
        lengths = (src != PAD).sum(1)
        packed = nn.utils.rnn.pack_padded_sequence(
            self.src_embed(src), lengths, batch_first=True, enforce_sorted=False
        )
        _, h = self.encoder(packed)
        return h

    def forward(self, src, tgt_in):
        h = self.encode(src)
        dec_out, h = self.decoder(self.tgt_embed(tgt_in))
        return self.out(dec_out), h

    @torch.no_grad()
    def greedy(self, src, steps):
        h = self.encode(src)
        tok = torch.full((len(src), 1), BOS, dtype=torch.long)
        outs = []
        for _ in range(steps):
            o, h = self.decoder(self.tgt_embed(tok), h)
            tok = self.out(o).argmax(-1)
            outs.append(tok)
        return torch.cat(outs, 1)


def teacher_inputs(tgt):
    """Decoder inputs: BOS, then the target shifted right by one."""
    bos = torch.full((len(tgt), 1), BOS, dtype=torch.long)
    return torch.cat([bos, tgt[:, :-1]], 1)


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    src_tr, tgt_tr = make_pairs(rng, 4000)
    src_te, tgt_te = make_pairs(rng, 500)

    model = Seq2Seq(V)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(src_tr), generator=g)
        total, n = 0.0, 0
        for i in range(0, len(perm), BATCH):
            idx = perm[i : i + BATCH]
            src, tgt = src_tr[idx], tgt_tr[idx]
            logits, _ = model(src, teacher_inputs(tgt))
            loss = F.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1), ignore_index=PAD)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item()
            n += 1
        print(f"epoch {epoch + 1:2d}  train loss {total / n:.4f}")

    model.eval()
    pred = model.greedy(src_te, tgt_te.shape[1])
    mask = tgt_te != PAD
    acc = (pred[mask] == tgt_te[mask]).float().mean().item()
    # the collapsed answer ignores the source: always the most frequent training target token
    majority = torch.bincount(tgt_tr[tgt_tr != PAD], minlength=V).argmax()
    baseline = (tgt_te[mask] == majority).float().mean().item()
    print(f"held-out token accuracy (greedy) {acc:.3f}  (unigram baseline {baseline:.3f})")
    print("example:", src_te[0].tolist(), "->", pred[0].tolist())
    # collapsed: held-out token accuracy < baseline + 0.1
    collapsed = bool(acc < baseline + 0.1)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "seq2seq",
                "metric": "heldout_token_accuracy",
                "value": round(acc, 4),
                "baseline": round(baseline, 4),
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
