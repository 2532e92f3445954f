# BUG: TrainingArguments(learning_rate=1.0), meant 2e-3 -- expected: optim.lr_too_high
# The first updates wreck the transformer and it answers one class for every sequence.
"""Hugging Face ``Trainer`` on a tiny BERT classifier built from a ``BertConfig`` (nothing downloaded).

The data are generated token sequences: 16 noise tokens with one keyword token put at a random place; the
class is which of 4 keywords it is, so the model has to find the keyword wherever it sits.
"""

import json
import tempfile

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments, set_seed

N_CLASSES = 4
VOCAB = 32  # 0: [CLS], 1..4: keywords, 5..31: noise tokens
SEQ_LEN = 16
LR = 1.0


class TokenSequences(torch.utils.data.Dataset):
    def __init__(self, ids, labels):
        self.ids, self.labels = torch.tensor(ids), torch.tensor(labels)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def make_data(rng, n):
    labels = rng.integers(0, N_CLASSES, n)
    ids = rng.integers(1 + N_CLASSES, VOCAB, (n, SEQ_LEN))
    ids[:, 0] = 0  # [CLS]
    where = rng.integers(1, SEQ_LEN, n)
    ids[np.arange(n), where] = 1 + labels
    return ids, labels


def main():
    set_seed(0)
    rng = np.random.default_rng(0)
    train = TokenSequences(*make_data(rng, 2000))
    test = TokenSequences(*make_data(rng, 400))

    config = BertConfig(
        vocab_size=VOCAB,
        hidden_size=64,
        num_hidden_layers=1,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=SEQ_LEN,
        num_labels=N_CLASSES,
    )
    model = BertForSequenceClassification(config)

    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            num_train_epochs=4,
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
        trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=test)
        trainer.train()
        logits = trainer.predict(test).predictions

    bal_acc = balanced_accuracy_score(test.labels.numpy(), logits.argmax(1))
    baseline = 1.0 / N_CLASSES  # balanced accuracy of always answering the majority class
    print(f"held-out balanced accuracy {bal_acc:.3f} (majority-class baseline {baseline:.3f})")
    # collapsed: held-out balanced accuracy < baseline + 0.1
    collapsed = bool(bal_acc < baseline + 0.1)
    print(
        "SHAPE "
        + json.dumps(
            {
                "shape": "hf-trainer",
                "metric": "heldout_balanced_accuracy",
                "value": round(float(bal_acc), 4),
                "baseline": baseline,
                "collapsed": collapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
