import numpy as np

from deadpan.zoo.scoring import score


def test_majority_answer_scores_chance_on_imbalanced_binary() -> None:
    y = np.array([0.0] * 90 + [1.0] * 10)
    assert score("binary", np.full((100, 1), -3.0), y, probabilities=False) == 0.5


def test_argmax_and_probabilities() -> None:
    y = np.array([0, 1, 2, 2])
    out = np.eye(3)[y] * 5
    assert score("multiclass", out, y, probabilities=False) == 1.0
    assert score("binary", np.array([[0.9], [0.2]]), np.array([1.0, 0.0]), probabilities=True) == 1.0


def test_regression_r2_is_clipped_and_nan_safe() -> None:
    y = np.linspace(-1, 1, 50)
    assert score("regression", y[:, None], y, probabilities=False) == 1.0
    assert score("regression", np.full((50, 1), 1e9), y, probabilities=False) == -1.0
    assert score("regression", np.full((50, 1), np.nan), y, probabilities=False) <= 0.0


def test_one_unit_for_class_ids_is_rounded() -> None:
    y = np.array([0, 1, 2])
    assert score("multiclass", np.array([[0.1], [1.2], [1.9]]), y, probabilities=False) == 1.0
