"""The data-pipeline steps do what their operators say, on copies of the cached base data."""

import numpy as np

from deadpan.zoo import data


def test_steps_leave_the_cached_split_untouched() -> None:
    base = data.digits()
    before = base.x.copy(), base.y.copy()
    data.apply(base, (("shuffle_labels", 1.0), ("scale", 1000.0), ("nan_inputs", 0.1)), seed=0)
    assert np.array_equal(base.x, before[0]) and np.array_equal(base.y, before[1])


def test_shuffle_inputs_breaks_the_pairs_but_keeps_the_labels() -> None:
    base = data.digits()
    s = data.apply(base, (("shuffle_inputs", 0.0),), seed=0)
    assert np.array_equal(s.y, base.y)
    assert np.mean(np.all(s.x == base.x, axis=1)) < 0.05


def test_unbalance_keeps_the_majority_class_and_a_fraction_of_the_others() -> None:
    base = data.wine()
    s = data.apply(base, (("unbalance", 0.05),), seed=0)
    major = np.bincount(base.y).argmax()
    assert np.sum(s.y == major) == np.sum(base.y == major)
    assert np.sum(s.y != major) <= 0.2 * np.sum(base.y != major)


def test_integer_division_leaves_almost_nothing() -> None:
    s = data.apply(data.digits(), (("int_div", 0.0),), seed=0)
    assert np.mean(s.x == 0) > 0.99


def test_duplicate_keeps_few_distinct_rows_at_full_size() -> None:
    base = data.friedman()
    s = data.apply(base, (("duplicate", 8.0),), seed=0)
    assert len(s.x) == len(base.x)
    assert len(np.unique(s.x, axis=0)) == 8


def test_random_steps_depend_on_the_seed() -> None:
    a = data.apply(data.digits(), (("shuffle_labels", 1.0),), seed=0)
    b = data.apply(data.digits(), (("shuffle_labels", 1.0),), seed=1)
    assert not np.array_equal(a.y, b.y)
