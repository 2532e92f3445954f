from dataclasses import replace

from factory import healthy, regression_healthy

from deadpan.checks.train.same_batch_every_step import SameBatchEveryStep
from deadpan.evidence import Evidence
from deadpan.findings import Severity


def _data(**kw: object) -> Evidence:
    ev = healthy()
    assert ev.data is not None
    return replace(ev, data=replace(ev.data, **kw))  # type: ignore[arg-type]


def test_fires_on_next_iter_loader_every_step() -> None:
    ev = _data(
        distinct_batches=1,
        batches_fingerprinted=200,
        dataset_size=300,
        batch_size=32,
        loader_iters_per_step=1.0,
    )
    found = SameBatchEveryStep().judge(ev)
    assert found is not None
    assert (found.code, found.category, found.severity) == ("DP503", "train.loop", Severity.ERROR)
    assert found.strength >= 0.9
    assert "for x, y in loader" in found.fix


def test_fires_weaker_without_loader_restarts() -> None:
    ev = _data(distinct_batches=2, batches_fingerprinted=200, dataset_size=6400, batch_size=32)
    found = SameBatchEveryStep().judge(ev)
    assert found is not None and 0.75 <= found.strength < 0.9


def test_silent_on_full_batch_training_from_a_tensor() -> None:
    # No DataLoader: the whole training set is one batch, repeated on purpose.
    assert SameBatchEveryStep().judge(_data(distinct_batches=1, batches_fingerprinted=200)) is None


def test_silent_when_the_dataset_is_one_batch() -> None:
    ev = _data(distinct_batches=1, batches_fingerprinted=200, dataset_size=32, batch_size=32)
    assert SameBatchEveryStep().judge(ev) is None


def test_silent_on_an_unshuffled_loader_over_many_epochs() -> None:
    # 10 batches per epoch without shuffle: 10 distinct batches in 200 steps is every batch, repeated.
    ev = _data(distinct_batches=10, batches_fingerprinted=200, dataset_size=320, batch_size=32)
    assert SameBatchEveryStep().judge(ev) is None


def test_silent_on_healthy() -> None:
    assert SameBatchEveryStep().judge(healthy()) is None
    assert SameBatchEveryStep().judge(regression_healthy()) is None


def test_fires_on_the_same_rows_indexed_from_a_tensor() -> None:
    # No DataLoader (0 iterators per step): `x[torch.arange(64)]` at every step of a 1600-row tensor.
    ev = _data(
        distinct_batches=1,
        batches_fingerprinted=40,
        dataset_size=1600,
        batch_size=64,
        loader_iters_per_step=0.0,
    )
    found = SameBatchEveryStep().judge(ev)
    assert found is not None and 0.75 <= found.strength < 0.9
    assert "indexed from a tensor of 1600 samples" in found.message
    assert "torch.randperm" in found.fix and "next(iter(loader))" not in found.fix


def test_silent_on_a_training_split_used_whole() -> None:
    # `model(x[train_idx])` at every step, 80% of a tensor: full-batch training on a split, not a minibatch.
    ev = _data(
        distinct_batches=1,
        batches_fingerprinted=40,
        dataset_size=1000,
        batch_size=800,
        loader_iters_per_step=0.0,
    )
    assert SameBatchEveryStep().judge(ev) is None


def test_silent_on_shuffled_batches_indexed_from_a_tensor() -> None:
    ev = _data(
        distinct_batches=40,
        batches_fingerprinted=40,
        dataset_size=1600,
        batch_size=64,
        loader_iters_per_step=0.0,
    )
    assert SameBatchEveryStep().judge(ev) is None


def test_keras_fix_speaks_keras() -> None:
    ev = _data(distinct_batches=1, batches_fingerprinted=40, dataset_size=1600, batch_size=64)
    assert ev.model is not None
    found = SameBatchEveryStep().judge(replace(ev, model=replace(ev.model, framework="keras")))
    assert found is not None
    assert "model.fit" in found.fix and "torch" not in found.fix and "loader" not in found.fix
