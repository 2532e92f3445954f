"""Verdict and ranking on hand-made evidence."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from factory import healthy, output_probe, regression_healthy

from deadpan.diagnosis import rank_causes
from deadpan.evidence import Evidence, Probes
from deadpan.findings import Finding, Severity
from deadpan.pipeline import diagnose_evidence


def f(category: str, strength: float, code: str = "DP999") -> Finding:
    return Finding(
        code, code.lower(), category, Severity.ERROR, f"{category} msg", f"{category} fix", {}, strength
    )


def test_healthy_evidence_is_healthy() -> None:
    for ev in (healthy(), regression_healthy()):
        report = diagnose_evidence(ev)
        assert report.verdict == "healthy", report.summary
        assert report.causes == ()


def test_collapsed_when_one_class() -> None:
    ev = healthy()
    probe = output_probe(distinct_predictions=1, majority_share=1.0, score=1 / 3, output_spread_ratio=0.0)
    report = diagnose_evidence(replace(ev, probes=replace(ev.probes, train_output=probe)))
    assert report.verdict == "collapsed"
    assert report.collapse.distinct_predictions == 1


def test_imbalanced_but_good_is_not_collapsed() -> None:
    ev = healthy()
    probe = output_probe(distinct_predictions=2, majority_share=0.96, score=0.9, chance_score=0.5)
    report = diagnose_evidence(replace(ev, probes=replace(ev.probes, train_output=probe)))
    assert report.verdict != "collapsed"


def test_regression_stuck_at_mean_is_collapsed() -> None:
    ev = regression_healthy()
    assert ev.probes.train_output is not None
    probe = replace(ev.probes.train_output, output_spread_ratio=0.01, score=0.0)
    report = diagnose_evidence(replace(ev, probes=replace(ev.probes, train_output=probe)))
    assert report.verdict == "collapsed"


def test_heldout_gap_is_degraded() -> None:
    ev = healthy()
    held = output_probe(score=0.4)
    report = diagnose_evidence(replace(ev, probes=replace(ev.probes, heldout_output=held)))
    assert report.verdict == "degraded"


def test_no_probe_is_inconclusive() -> None:
    report = diagnose_evidence(replace(healthy(), probes=Probes(), missing=("an optimizer step",)))
    assert report.verdict == "inconclusive"
    assert "an optimizer step" in report.summary


def test_root_cause_ranks_first_even_when_less_confident() -> None:
    causes = rank_causes([f("model.dead_units", 0.9, "DP220"), f("data.inputs", 0.6, "DP110")])
    assert [c.category for c in causes] == ["data.inputs", "model.dead_units"]
    causes = rank_causes([f("optim.lr_too_low", 0.9, "DP402"), f("loss.mismatch", 0.7, "DP301")])
    assert causes[0].category == "loss.mismatch"
    # a loss thrown up by a learning rate too high, coming back down, is not a training cut short
    causes = rank_causes([f("train.too_short", 0.75, "DP510"), f("optim.lr_too_high", 0.7, "DP401")])
    assert causes[0].category == "optim.lr_too_high"


def test_independent_causes_rank_by_confidence() -> None:
    causes = rank_causes([f("train.loop", 0.6, "DP501"), f("model.output", 0.8, "DP210")])
    assert [c.category for c in causes] == ["model.output", "train.loop"]


def test_findings_in_one_category_combine() -> None:
    causes = rank_causes([f("train.loop", 0.5, "DP501"), f("train.loop", 0.5, "DP502")])
    assert len(causes) == 1
    assert np.isclose(causes[0].confidence, 0.75)
    assert set(causes[0].findings) == {"DP501", "DP502"}


def _learns_little(learnability: bool) -> Evidence:
    """A model that learns a little (train 0.57, held-out 0.53 on three classes) on data whose best simple
    model reaches balanced accuracy 0.5 on 800 samples (a quarter of the way from chance to perfect), or
    with no learnability probe."""
    ev = healthy()
    assert ev.probes.learnability is not None
    weak = replace(ev.probes.learnability, linear_score=0.5, nonlinear_score=0.48, n_samples=800)
    learn = weak if learnability else None
    probes = replace(
        ev.probes,
        train_output=output_probe(score=0.57),
        heldout_output=output_probe(score=0.53),
        learnability=learn,
    )
    return replace(ev, probes=probes)


def test_weak_signal_and_a_poor_heldout_score_is_degraded() -> None:
    report = diagnose_evidence(_learns_little(learnability=True))
    assert report.verdict == "degraded"
    assert "scores poorly on held-out data" in report.summary
    assert report.causes[0].category == "data.no_signal"


def test_a_poor_heldout_score_without_a_cause_is_not_degraded() -> None:
    # The held-out bar is lowered only when a check names a cause: the score alone says nothing of why.
    assert diagnose_evidence(_learns_little(learnability=False)).verdict == "healthy"
