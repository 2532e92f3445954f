"""LightningModule next-token language model: a tiny GRU on a generated corpus, flattened cross-entropy.

The corpus is a second-order Markov chain over 30 tokens: each pair of previous tokens allows only 3 next
tokens, so context matters and a good model's perplexity is far below the unigram one.
"""

import json
import math

import lightning.pytorch as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

V = 30
SEQ_LEN = 33  # 32 inputs, 32 targets
EPOCHS = 4
BATCH = 32


def make_chain(rng):
    """For every context (a, b): 3 allowed next tokens with Dirichlet probabilities."""
    nxt = rng.integers(0, V, size=(V, V, 3))
    probs = rng.dirichlet(np.ones(3) * 0.7, size=(V, V))
    return nxt, probs


def sample_corpus(rng, chain, n):
    nxt, probs = chain
    seqs = np.zeros((n, SEQ_LEN), dtype=np.int64)
    seqs[:, :2] = rng.integers(0, V, size=(n, 2))
    for t in range(2, SEQ_LEN):
        a, b = seqs[:, t - 2], seqs[:, t - 1]
        cum = probs[a, b].cumsum(1)
        k = np.minimum((rng.random((n, 1)) > cum).sum(1), 2)
        seqs[:, t] = nxt[a, b, k]
    return seqs


class GRULanguageModel(L.LightningModule):
    def __init__(self, vocab=V, emb=32, hidden=96, lr=3e-3):
        super().__init__()
        self.save_hyperparameters()
        self.embed = nn.Embedding(vocab, emb)
        self.gru = nn.GRU(emb, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x):
        h, _ = self.gru(self.embed(x))
        return self.head(h)

    def _loss(self, batch):
        x, y = batch
        logits = self(x)
        return F.cross_entropy(logits.reshape(-1, self.hparams.vocab), y.reshape(-1))

    def training_step(self, batch, batch_idx):
        loss = self._loss(batch)
        self.log("train_loss", loss, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self._loss(batch))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


class PrintMetrics(L.Callback):
    def on_train_epoch_end(self, trainer, pl_module):
        m = trainer.callback_metrics
        print(
            f"epoch {trainer.current_epoch}  train loss {m['train_loss']:.3f}  "
            f"val ppl {math.exp(m['val_loss']):.2f}"
        )


def main():
    L.seed_everything(0)
    rng = np.random.default_rng(0)
    chain = make_chain(rng)
    train, test = sample_corpus(rng, chain, 2000), sample_corpus(rng, chain, 400)
    x_tr, y_tr = train[:, :-1], train[:, 1:]
    x_te, y_te = test[:, :-1], test[:, 1:]
    perm = rng.permutation(len(x_tr))  # shuffle the training sequences once
    x_tr, y_tr = x_tr[perm], y_tr[perm]

    # unigram model from the training targets: the collapsed LM that ignores its context
    p_uni = (np.bincount(y_tr.ravel(), minlength=V) + 1.0) / (y_tr.size + V)
    unigram_ppl = math.exp(-np.log(p_uni[y_te.ravel()]).mean())

    train_loader = DataLoader(
        TensorDataset(torch.from_numpy(x_tr.copy()), torch.from_numpy(y_tr.copy())),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    val_loader = DataLoader(
        TensorDataset(torch.from_numpy(x_te.copy()), torch.from_numpy(y_te.copy())), batch_size=200
    )

    model = GRULanguageModel()
    trainer = L.Trainer(
        max_epochs=EPOCHS,
        accelerator="cpu",
        gradient_clip_val=1.0,
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
        enable_checkpointing=False,
        callbacks=[PrintMetrics()],
    )
    trainer.fit(model, train_loader, val_loader)

    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(x_te.copy()))
        nll = F.cross_entropy(logits.reshape(-1, V), torch.from_numpy(y_te.copy()).reshape(-1))
    ppl = math.exp(nll.item())
    print(f"held-out perplexity {ppl:.2f}  (unigram perplexity {unigram_ppl:.2f})")
    # collapsed: held-out perplexity > 0.8 x the unigram perplexity
    collapsed = bool(ppl > 0.8 * unigram_ppl)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "lightning",
                "metric": "heldout_perplexity",
                "value": round(ppl, 3),
                "baseline": round(unigram_ppl, 3),
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
