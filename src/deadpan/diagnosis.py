"""From evidence and the checks' findings to a report: judge the symptom, rank the causes.

The verdict comes from the symptom (the outputs on the probe batch), not from the checks: a check says *why*,
the probe says *whether*. Causes are ranked root first: when one present cause explains another (all-zero
inputs explain dead units; a loss mismatch explains a flat loss), the explained one ranks below whatever
its confidence.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

from deadpan.evidence import Evidence, OutputProbe, Task
from deadpan.findings import Cause, Collapse, Finding, Report, Severity, Skipped

# --- symptom thresholds -------------------------------------------------------------------------------
#: Share of inputs given the most common prediction at which the output counts as one class. Chosen below
#: 1.0 so a model that answers one class for all but a handful of inputs is still called collapsed.
COLLAPSE_MAJORITY = 0.95
#: ... provided its balanced accuracy is within this (normalised) distance of chance; a good classifier on
#: 97/3 data also predicts the majority 95% of the time but separates the classes.
COLLAPSE_MAX_NORMALIZED_SCORE = 0.2
#: Across-sample output spread relative to the targets' spread below which a regression output is constant
#: ("stuck at the mean"): 5% of the target spread.
COLLAPSE_SPREAD = 0.05
#: Normalised score (0 = input-independent baseline, 1 = perfect) under which the model has not learned.
DEGRADED_SCORE = 0.2
#: Train-minus-held-out normalised score that counts as failing to generalise.
DEGRADED_GAP = 0.3
#: The network trails simple scikit-learn models on the same inputs by this much (normalised): it failed to
#: learn what is plainly learnable.
DEGRADED_BEHIND_BASELINE = 0.35
#: A smaller lag behind the simple models also counts as degraded when a check names a cause (a warning or
#: an error finding): the symptom and the evidence for a cause then agree. Half the bare threshold: a network
#: that trails logistic regression by 15% of the reachable score on data both see has lost a large part of
#: what it could learn. The checks' "trails simple models" uses the same figure
#: (:data:`deadpan.checks.symptoms.TRAILS_SIMPLE_MODELS`), so a check that fires on it also makes the
#: verdict degraded.
DEGRADED_BEHIND_BASELINE_WITH_CAUSE = 0.15
#: Likewise a smaller train/held-out gap counts when a check names a cause.
DEGRADED_GAP_WITH_CAUSE = 0.15
#: With a cause named, a held-out score recovering less than this share of chance-to-perfect is degraded
#: too (the checks' "scores poorly", :data:`deadpan.checks.symptoms.POOR_SCORE`): a model that learns, but
#: generalises this little, is what the finding explains. Not for classes per position: their cross-entropy
#: skill cannot reach 1 where the next token is noisy, and a good language model removes a third to two
#: thirds of the unigram cross-entropy.
DEGRADED_HELDOUT_WITH_CAUSE = 0.5
#: No-signal data: the best simple model is within this of the label-permuted baseline (or within the
#: sampling noise of the learnability probe's scores, :meth:`LearnabilityProbe.noise_gap`, when larger).
NO_SIGNAL_MARGIN = 0.1

#: Which cause categories explain which: a present key ranks above the present values it explains.
EXPLAINS: dict[str, tuple[str, ...]] = {
    "data.inputs": (
        "model.dead_units",
        "model.saturation",
        "init.scale",
        "data.no_signal",
        "data.diversity",
        "optim.lr_too_high",
        "optim.lr_too_low",
        "model.capacity",
        "train.too_short",
        # Inputs that carry nothing leave the class prior as the only answer.
        "data.imbalance",
    ),
    "data.labels": ("data.imbalance", "data.no_signal", "loss.mismatch", "model.output", "train.too_short"),
    "train.loop": (
        # The data sample comes from the batches the loop used: one repeated batch looks like bad data.
        "data.labels",
        "data.imbalance",
        "optim.lr_too_low",
        "optim.lr_too_high",
        "train.too_short",
        "data.diversity",
        "train.overfit",
        "data.no_signal",
        "model.dead_units",
        "init.scale",
    ),
    "loss.mismatch": (
        "optim.lr_too_low",
        "optim.lr_too_high",
        "train.too_short",
        "model.saturation",
        "model.dead_units",
        "data.imbalance",
        "model.capacity",
        "init.scale",
    ),
    "model.output": (
        "model.dead_units",
        "model.saturation",
        "optim.lr_too_low",
        "optim.lr_too_high",
        "train.too_short",
        "loss.mismatch",
        "data.imbalance",
        "model.capacity",
        "init.scale",
    ),
    "init.symmetry": (
        "model.capacity",
        "model.dead_units",
        "optim.lr_too_low",
        "train.too_short",
        "init.scale",
    ),
    "init.scale": ("model.dead_units", "model.saturation", "optim.lr_too_high", "train.too_short"),
    # A loss thrown up by steps too large and coming back down looks unfinished at the end of the run.
    "optim.lr_too_high": ("model.dead_units", "model.saturation", "data.imbalance", "train.too_short"),
    "optim.lr_too_low": ("train.too_short", "data.imbalance"),
    "train.over_regularized": ("optim.lr_too_low", "model.dead_units", "train.too_short", "data.imbalance"),
    "data.no_signal": (
        "train.overfit",
        "data.imbalance",
        "model.capacity",
        "train.too_short",
        "optim.lr_too_low",
    ),
    "model.capacity": ("train.too_short", "data.imbalance", "optim.lr_too_low"),
    # A few examples give few steps per epoch, and nothing general to learn however long the training.
    # A few dozen examples are too few for the learnability probe to find the signal in, too.
    "data.diversity": ("train.overfit", "train.too_short", "data.no_signal"),
}


def collapse_of(probe: OutputProbe | None) -> Collapse:
    if probe is None:
        return Collapse()
    return Collapse(probe.distinct_predictions, probe.majority_share, probe.output_spread_ratio)


def is_collapsed(probe: OutputProbe, regression: bool) -> bool:
    """Nearly the same output for every input."""
    if probe.nonfinite_outputs:
        return True
    if regression:
        return probe.output_spread_ratio < COLLAPSE_SPREAD
    if probe.distinct_predictions <= 1:
        return True
    return (
        probe.majority_share >= COLLAPSE_MAJORITY and probe.normalized_score < COLLAPSE_MAX_NORMALIZED_SCORE
    )


def degradation(ev: Evidence, cause_found: bool = False) -> str | None:
    """Why the model is degraded (not constant, but not learning or generalising), or None. ``cause_found``:
    a check reported a warning or error, which lowers the lag behind simple models that counts."""
    train = ev.probes.train_output
    if ev.training is not None and ev.training.first_nonfinite_loss_step is not None:
        return f"the loss became non-finite at step {ev.training.first_nonfinite_loss_step}"
    if train is None:
        return None
    if train.normalized_score < DEGRADED_SCORE:
        return (
            f"it does no better than an input-independent answer (score {train.score:.2f}, "
            f"chance {train.chance_score:.2f})"
        )
    held = ev.probes.heldout_output
    gap = DEGRADED_GAP_WITH_CAUSE if cause_found else DEGRADED_GAP
    if held is not None and train.normalized_score - held.normalized_score > gap:
        return f"it fits the training data (score {train.score:.2f}) but not held-out data ({held.score:.2f})"
    if (
        cause_found
        and held is not None
        and held.normalized_score < DEGRADED_HELDOUT_WITH_CAUSE
        and not (ev.task is not None and ev.task.positions > 1)
    ):
        return (
            f"it scores poorly on held-out data ({held.score:.2f}; chance {held.chance_score:.2f}, "
            "perfect 1.00)"
        )
    learn = ev.probes.learnability
    if learn is not None and not learn.per_position:
        best = max(learn.linear_score, learn.nonlinear_score)
        if learn.signal_gap() < max(NO_SIGNAL_MARGIN, learn.noise_gap()):
            return (
                "it fits its training batch, but simple models find no signal linking these inputs to "
                "these targets, so what it learned is memorised noise"
            )
        lag = DEGRADED_BEHIND_BASELINE_WITH_CAUSE if cause_found else DEGRADED_BEHIND_BASELINE
        if learn.normalized(best) - train.normalized_score > lag:
            return f"simple models reach {best:.2f} on the same inputs but the network only {train.score:.2f}"
    return None


def _combine(strengths: Iterable[float]) -> float:
    miss = 1.0
    for s in strengths:
        miss *= 1.0 - s
    return 1.0 - miss


def rank_causes(findings: Iterable[Finding]) -> list[Cause]:
    """Group findings by category and order them root first, then by confidence."""
    by_cat: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.severity is Severity.INFO:
            continue
        by_cat[f.category].append(f)
    conf = {c: _combine(f.strength for f in fs) for c, fs in by_cat.items()}

    # Root-first: a category explained by a present, reasonably confident category sits a level lower.
    explainers: dict[str, list[str]] = defaultdict(list)
    for root, explained in EXPLAINS.items():
        if root in conf and conf[root] >= 0.5:
            for c in explained:
                if c in conf and c != root:
                    explainers[c].append(root)

    def level(c: str, seen: frozenset[str] = frozenset()) -> int:
        ups = [e for e in explainers.get(c, []) if e not in seen]
        return 0 if not ups else 1 + max(level(e, seen | {c}) for e in ups)

    adjusted = {c: conf[c] * (0.6 if explainers.get(c) else 1.0) for c in conf}
    order = sorted(conf, key=lambda c: (level(c), -adjusted[c]))
    causes = []
    for c in order:
        fs = sorted(by_cat[c], key=lambda f: -f.strength)
        causes.append(
            Cause(
                category=c,
                confidence=adjusted[c],
                summary=fs[0].message,
                findings=tuple(f.code for f in fs),
                fix=fs[0].fix,
            )
        )
    return causes


def _describe_collapse(probe: OutputProbe, regression: bool) -> str:
    if probe.nonfinite_outputs:
        return "the model outputs NaN or inf"
    if regression:
        return (
            f"the output is nearly constant (spread {probe.output_spread_ratio:.1%} of the targets' spread)"
        )
    if probe.distinct_predictions <= 1:
        return f"the model predicts class {probe.predicted_majority} for every input"
    return f"the model predicts class {probe.predicted_majority} for {probe.majority_share:.0%} of inputs"


def summary_of(verdict: str, symptom: str, causes: Sequence[Cause]) -> str:
    """The sentence a person reads first, for a collapsed or degraded verdict: the symptom, then the first
    cause and its fix (with what its fix trial showed, when it was verified)."""
    if not causes:
        return f"{verdict.capitalize()}: {symptom}. No check pinpointed a cause; see the evidence below."
    top = causes[0]
    proof = ""
    if top.verified is not None and top.verified.get("improved"):
        proof = f" (verified: {top.verified.get('headline', 'its fix trial improved on the control')})"
    return (
        f"{verdict.capitalize()}: {symptom}. Most likely cause: {top.category} — {top.summary} "
        f"Fix{proof}: {top.fix}."
    )


def score_name(task: Task) -> str:
    """The score a report quotes for ``task`` (chance 0 or 1/C, perfect 1)."""
    if task.kind == "regression":
        return "R²"
    if task.kind in ("generative", "embedding"):
        return "output spread"
    if task.kind == "multiclass" and task.positions > 1:
        return "cross-entropy skill"
    return "balanced accuracy"


def _metrics(ev: Evidence) -> dict[str, object]:
    """Headline numbers every report carries: steps, scores, the task."""
    train = ev.probes.train_output
    metrics: dict[str, object] = {}
    if ev.training is not None:
        metrics["steps"] = ev.training.steps
    if train is not None and math.isfinite(train.score):
        metrics["train_score"] = train.score
        metrics["chance_score"] = train.chance_score
    if ev.probes.heldout_output is not None:
        metrics["heldout_score"] = ev.probes.heldout_output.score
    if ev.task is not None:
        metrics["task"] = ev.task.kind
        metrics["score_metric"] = score_name(ev.task)
    return metrics


def _inconclusive(
    ev: Evidence, findings: Sequence[Finding], skipped: Sequence[Skipped], errors: Sequence[str]
) -> Report:
    missing = ev.missing or ("the model's outputs on a probe batch",)
    return Report(
        verdict="inconclusive",
        summary="Inconclusive: "
        + "; ".join(
            m if m.startswith("not supported yet") else f"deadpan did not observe {m}" for m in missing
        )
        + ".",
        collapse=Collapse(),
        findings=tuple(findings),
        skipped=tuple(skipped),
        internal_errors=tuple(errors),
        metrics=_metrics(ev),
        missing=tuple(missing),
    )


def _verdict(ev: Evidence, train: OutputProbe, findings: Sequence[Finding]) -> tuple[str, str]:
    """(verdict, symptom) of a probed output."""
    if ev.task is not None and ev.task.kind in ("generative", "embedding"):
        return _diversity_verdict(ev.task.kind, train)
    regression = ev.task is not None and ev.task.kind == "regression"
    if is_collapsed(train, regression):
        return "collapsed", _describe_collapse(train, regression)
    if (why := degradation(ev, any(f.severity is not Severity.INFO for f in findings))) is not None:
        return "degraded", why
    if any(f.severity is Severity.ERROR and f.strength >= 0.9 for f in findings):
        return "degraded", "it learns, but the training has a definite bug"
    return "healthy", ""


def _diversity_verdict(kind: str, outputs: OutputProbe) -> tuple[str, str]:
    """(verdict, symptom) of outputs without targets (a generator's samples, embeddings): collapsed when
    they spread less than :data:`COLLAPSE_SPREAD` of their scale (the data's; the embedding loss's), else
    healthy; no score, so never degraded."""
    model = "generator" if kind == "generative" else "embedding model"
    if outputs.nonfinite_outputs:
        return "collapsed", f"the {model} outputs NaN or inf"
    if outputs.output_spread_ratio >= COLLAPSE_SPREAD:
        return "healthy", ""
    if kind == "generative":
        return "collapsed", (
            "the generator gives nearly the same sample for every input noise (sample spread "
            f"{outputs.output_spread_ratio:.1%} of the data's): mode collapse"
        )
    return "collapsed", (
        "the embedding model maps every input to nearly one point (spread "
        f"{outputs.output_spread_ratio:.1%} of the loss's scale)"
    )


def judge(
    ev: Evidence, findings: Sequence[Finding], skipped: Sequence[Skipped] = (), errors: Sequence[str] = ()
) -> Report:
    """The report on ``ev`` given what the checks found (``errors``: the checks' internal errors)."""
    errors = [*ev.internal_errors, *errors]
    train = ev.probes.train_output
    if train is not None and train.n_samples < 2:
        # One row has one answer: whether the model answers the same for every input cannot show.
        train = None
        ev = replace(ev, missing=(*ev.missing, "at least 2 samples (one answer cannot show a collapse)"))
    if train is None:
        return _inconclusive(ev, findings, skipped, errors)
    verdict, symptom = _verdict(ev, train, findings)
    causes = rank_causes(findings) if verdict != "healthy" else []
    if verdict == "healthy":
        summary = (
            "Healthy: the outputs depend on the inputs and the model beats the input-independent baseline."
            if ev.task is None or ev.task.kind not in ("generative", "embedding")
            else "Healthy: the outputs differ from input to input (spread "
            f"{train.output_spread_ratio:.2f} of their scale)."
        )
        warnings = [f for f in findings if f.severity is not Severity.INFO]
        if warnings:
            summary += f" {len(warnings)} warning(s) below."
    else:
        summary = summary_of(verdict, symptom, causes)
    return Report(
        verdict=verdict,
        summary=summary,
        collapse=collapse_of(train),
        causes=tuple(causes),
        findings=tuple(findings),
        skipped=tuple(skipped),
        internal_errors=tuple(errors),
        metrics=_metrics(ev),
        missing=ev.missing,
        symptom=symptom,
    )
