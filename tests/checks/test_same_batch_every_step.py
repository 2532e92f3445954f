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
