# BUG: TrainingArguments(learning_rate=3.0), the "e-3" of 3e-3 lost -- expected: optim.lr_too_high
# The updates blow the transformer apart; its held-out perplexity ends above the unigram one.
"""Hugging Face ``Trainer`` on a tiny causal LM built from a ``GPT2Config`` (nothing downloaded).

The corpus is generated: a Markov chain over 30 tokens where each token allows only 3 next tokens, so
context matters and a good model's perplexity is far below the unigram one.
"""

import json
import math
import tempfile

import numpy as np
import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments, set_seed

V = 30
SEQ_LEN = 32
LR = 3.0


def make_chain(rng):
    """For every token: 3 allowed next tokens with Dirichlet probabilities."""
    nxt = rng.integers(0, V, size=(V, 3))
    probs = rng.dirichlet(np.ones(3) * 0.7, size=V)
    return nxt, probs


def sample_corpus(rng, chain, n):
    nxt, probs = chain
    seqs = np.zeros((n, SEQ_LEN), dtype=np.int64)
    seqs[:, 0] = rng.integers(0, V, size=n)
    for t in range(1, SEQ_LEN):
        prev = seqs[:, t - 1]
        cum = probs[prev].cumsum(1)
        k = np.minimum((rng.random((n, 1)) > cum).sum(1), 2)
        seqs[:, t] = nxt[prev, k]
    return seqs


class Corpus(torch.utils.data.Dataset):
    def __init__(self, seqs):
        self.seqs = torch.tensor(seqs)

    def __len__(self):
        return len(self.seqs)

    def __getitem__(self, i):
        return {"input_ids": self.seqs[i], "labels": self.seqs[i]}  # the model shifts the labels itself


def main():
    set_seed(0)
    rng = np.random.default_rng(0)
    chain = make_chain(rng)
    train, test = sample_corpus(rng, chain, 2000), sample_corpus(rng, chain, 400)

    # unigram model from the training targets: the collapsed LM that ignores its context
    p_uni = (np.bincount(train[:, 1:].ravel(), minlength=V) + 1.0) / (train[:, 1:].size + V)
    unigram_ppl = math.exp(-np.log(p_uni[test[:, 1:].ravel()]).mean())

    config = GPT2Config(vocab_size=V, n_positions=SEQ_LEN, n_embd=32, n_layer=1, n_head=2, n_inner=64)
    model = GPT2LMHeadModel(config)

    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            num_train_epochs=3,
            per_device_train_batch_size=32,
            per_device_eval_batch_size=200,
            learning_rate=LR,
            warmup_steps=20,
            logging_steps=25,
            eval_strategy="epoch",
            save_strategy="no",
            report_to="none",
            use_cpu=True,
            disable_tqdm=True,
            seed=0,
        )
        trainer = Trainer(model=model, args=args, train_dataset=Corpus(train), eval_dataset=Corpus(test))
        trainer.train()
        ppl = math.exp(trainer.evaluate()["eval_loss"])

    model.eval()
    with torch.no_grad():
        next_token = model(torch.tensor(test)).logits.argmax(-1)
    distinct = len(torch.unique(next_token))  # a collapsed LM answers the same token whatever the context

    print(f"held-out perplexity {ppl:.2f}  (unigram perplexity {unigram_ppl:.2f})")
    print(f"distinct argmax next tokens over the held-out contexts: {distinct}")
    # collapsed: held-out perplexity > 0.8 x the unigram perplexity, or <= 2 distinct argmax tokens
    collapsed = bool(ppl > 0.8 * unigram_ppl or distinct <= 2)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "hf-trainer",
                "metric": "heldout_perplexity",
                "value": round(ppl, 3),
                "baseline": round(unigram_ppl, 3),
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
