"""The probes that train something — a copy of the model on one batch, the LR range test, simple models on
the inputs — and what they found (part of the evidence model, :mod:`deadpan.evidence`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OverfitProbe:
    """Training a copy on one small batch: a healthy model and loss drive its loss towards zero."""

    steps: int
    initial_loss: float
    final_loss: float
    initial_score: float
    final_score: float

    @property
    def fitted(self) -> bool:
        return self.final_score >= 0.9 or self.final_loss <= 0.1 * max(self.initial_loss, 1e-12)


@dataclass(frozen=True)
class LRRangeProbe:
    """A short learning-rate range test on a copy (Smith 2017): loss vs exponentially growing LR."""

    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    #: LR of the steepest loss descent: a good starting learning rate.
    suggested_lr: float | None
    #: Smallest LR at which the loss exploded (> 4x its starting value or non-finite).
    diverge_lr: float | None
    user_lr: float | None


@dataclass(frozen=True)
class LearnabilityProbe:
    """Simple scikit-learn models on the captured inputs vs a label-permutation baseline (CV)."""

    metric: str  # "balanced_accuracy" or "r2"
    linear_score: float
    nonlinear_score: float
    permuted_score: float
    chance_score: float
    n_samples: int
    #: Labels averaged over (a multi-label target: each score is the mean of per-label balanced accuracies,
    #: as the network's multi-label score is); 1 otherwise.
    labels: int = 1
    #: The inputs were read as token ids, and the models also ran on bag-of-tokens counts of each row.
    token_counts: bool = False
    #: Regression targets that look like class ids: the best simple model's CV balanced accuracy with the
    #: ids taken as classes (what a classifier gets where the user regresses), None otherwise.
    class_id_score: float | None = None

    def normalized(self, score: float) -> float:
        return (score - self.chance_score) / max(1.0 - self.chance_score, 1e-12)

    @property
    def per_position(self) -> bool:
        """Count models per position (:mod:`deadpan.probes.positions`): evidence of no signal only. An
        n-gram table is no simple model a network must beat, so the network is not judged against it."""
        return self.metric == "cross_entropy_skill"

    def signal_gap(self) -> float:
        """Normalized score of the better simple model minus that on permuted labels: the evidence of
        signal that the no-signal judgements compare with a bar."""
        return self.normalized(max(self.linear_score, self.nonlinear_score)) - self.normalized(
            self.permuted_score
        )

    def noise_gap(self) -> float:
        """The normalized gap between the real and the label-permuted score that chance alone reaches
        about once in 40 times when the inputs carry no signal: two standard errors of the difference of
        two scores, each a proportion over ``n_samples`` (binomial standard error sqrt(c(1-c)/n) at
        chance level c for balanced accuracy; about 1/sqrt(n) for R^2 and cross-entropy skill, n rows).
        Small samples need a larger gap before their CV scores count as signal: 80 samples at chance 0.5
        need 0.32, 800 need 0.1."""
        n = max(self.n_samples, 1)
        if self.metric in ("r2", "cross_entropy_skill"):  # per held-out row: a sequence's positions share it
            se = 1.0 / n**0.5
        else:
            c = min(max(self.chance_score, 1e-6), 1 - 1e-6)
            se = (c * (1 - c) / n) ** 0.5 / (1 - c)
        return 2.0 * 2.0**0.5 * se
