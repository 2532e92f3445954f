"""DP402 weights-barely-move."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deadpan.checks.base import Check, register
from deadpan.checks.curves import (
    FAR_BELOW_RANGE,
    FallingCurve,
    far_below_range,
    paced_by_learning_rate,
    still_falling,
)
from deadpan.checks.symptoms import (
    head,
    loss_curve,
    misbehaving,
    optimizer_name,
    symptom_evidence,
    tail,
    user_lr,
)
from deadpan.evidence import Evidence, TrainingStats
from deadpan.findings import Change, Finding

#: Update-to-weight norm ratio per step: about 1e-3 is healthy (Karpathy, CS231n); below 1e-5 the weights
#: need 100,000 steps to change by their own size.
LOW_UPDATE_RATIO = 1e-5
#: Steps below the healthy ratio of about 1e-3 (Karpathy, CS231n) are small; whether they are too small
#: depends on how many there were. ``SMALL_TRAVEL`` bounds their sum: median ratio x steps is the distance
#: the weights travelled, as a multiple of their norm (an upper bound on how far they moved from the
#: initialisation). Below a tenth of their norm the network is still (to first order) its initialisation,
#: whose output hardly depends on the input. Healthy zoo runs travel 2 to 6 norms; SGD at a learning rate
#: 100x too low travels a few hundredths. A short run at healthy step sizes also travels little, but its
#: steps are not small: that is ``train.too_short``, not this.
HEALTHY_UPDATE_RATIO = 1e-3
SMALL_TRAVEL = 0.1
#: The loss dropped by less than this fraction of its starting value over the whole run: it barely moved.
SMALL_LOSS_DROP = 0.1
#: Gradient norms below this are "no gradient at all": a vanishing-gradient or detached-loss problem that
#: a larger learning rate would not fix, so this check leaves it to those checks.
VANISHED_GRAD_NORM = 1e-8
#: Gradient clipping (``clip_grad_norm_(params, max_norm)``) rescales every larger gradient to exactly
#: ``max_norm``: at least ``CLIPPED_SHARE`` of the sampled global gradient norms within ``CLIPPED_TOLERANCE``
#: (relative) of their median. Unclipped gradient norms vary from batch to batch by 10% or more, unless the
#: batch itself never changes (the same batch every step with weights that do not move): so the minibatch
#: losses must vary while the gradient norm does not.
CLIPPED_SHARE = 0.9
CLIPPED_TOLERANCE = 0.01
#: Fewest sampled gradient norms to call them constant.
MIN_CLIP_SAMPLES = 5
#: A usual clipping norm to suggest instead (the PyTorch and Keras examples use 1.0).
USUAL_MAX_NORM = 1.0
#: Where the gradient norms are not recorded (Keras) but the optimizer clips them (``clipnorm``), a clipping
#: norm this far below the usual 1.0 is taken as the reason the steps are small: typical gradient norms
#: are 0.1 to 10, so a norm under 0.01 clips every step to a sliver of it.
TINY_CONFIGURED_CLIP = 0.01
#: Initial weights this many times the std a standard initialiser gives (median over the layers): every
#: update is then small next to them, whatever the learning rate, and the cause is the initialisation
#: (``init.scale``, which the bad-init-scale check reports), not the step size.
LARGE_INIT_FACTOR = 10.0
STRENGTH = 0.6
#: Added when the LR range test confirms a much larger learning rate works, or when the gradients were
#: clipped to a constant norm (the reason the steps are small is then observed directly).
STRENGTH_LR_RANGE_BONUS = 0.15
#: Taken off when no loss curve was recorded to confirm the loss barely moved.
STRENGTH_NO_CURVE_PENALTY = 0.15
#: A schedule that brought the rate down this far from its start is named in the message: the rate the user
#: wrote was fine, the schedule (stepped per batch instead of per epoch, a tiny ``gamma``) is what shrank it.
DECAYED = 100.0
#: Factor to raise the learning rate by when the LR range test gave no suggestion.
FALLBACK_LR_FACTOR = 30.0


def clipped_norm(tr: TrainingStats) -> float | None:
    """The norm the gradients were clipped to, when (nearly) every sampled gradient norm equals it."""
    grads = np.asarray(tr.grad_norm, dtype=float)
    grads = grads[np.isfinite(grads)]
    if len(grads) < MIN_CLIP_SAMPLES:
        return None
    median = float(np.median(grads))
    if median <= 0:
        return None
    if _share_near_median(grads) < CLIPPED_SHARE:
        return None
    _, loss = loss_curve(tr)
    if len(loss) >= MIN_CLIP_SAMPLES and _share_near_median(loss) >= CLIPPED_SHARE:
        return None  # the loss is as constant as the gradient: the same batch, not clipping
    return median


def _share_near_median(values: np.ndarray) -> float:
    median = float(np.median(values))
    if median == 0:
        return float(np.mean(values == 0))
    return float(np.mean(np.abs(values / median - 1.0) <= CLIPPED_TOLERANCE))


@dataclass(frozen=True)
class _Steps:
    """How far the steps moved the weights: the median update-to-weight ratio, its sum over the run, and
    which of the small-step rules hold."""

    median_ratio: float
    travel: float
    tiny: bool
    short_travel: bool
    #: The learning rate is 30x or more below the range test's steepest descent ...
    far_below_range: bool
    #: ... the loss was still falling when training stopped (by DP510's rule,
    #: :func:`deadpan.checks.curves.still_falling`) with steps below the healthy size, or with a long way
    #: still to go (:func:`deadpan.checks.curves.paced_by_learning_rate`) ...
    slow: bool
    #: ... which is this many times the run (None when the steps are what is small).
    way_to_go: float | None = None


def _steps(ev: Evidence, tr: TrainingStats, ratios: np.ndarray) -> _Steps:
    median_ratio = float(np.median(ratios))
    travel = median_ratio * tr.steps
    far_below = far_below_range(ev)
    fall = still_falling(ev) if far_below else None
    paced = paced_by_learning_rate(ev, fall)
    # A learning rate far below the range test's steepest descent and a loss still falling when training
    # stopped, with small steps or a long way still to go: the loss moves, but the learning rate sets its
    # pace and the run ends first.
    return _Steps(
        median_ratio=median_ratio,
        travel=travel,
        tiny=median_ratio < LOW_UPDATE_RATIO,
        short_travel=median_ratio < HEALTHY_UPDATE_RATIO and travel < SMALL_TRAVEL,
        far_below_range=far_below,
        slow=fall is not None and (median_ratio < HEALTHY_UPDATE_RATIO or paced),
        way_to_go=fall.longer if paced and isinstance(fall, FallingCurve) else None,
    )


def _clip(tr: TrainingStats) -> float | None:
    """The norm the gradients were clipped to: seen in the gradient norms, or (where they are not recorded)
    a tiny ``clipnorm`` the optimizer applies."""
    clip = clipped_norm(tr)
    configured = tr.optimizer.clip_norm if tr.optimizer is not None else None
    if (
        clip is None
        and not len(tr.grad_norm)
        and configured is not None
        and configured < TINY_CONFIGURED_CLIP
    ):
        return configured
    return clip


def _words(steps: _Steps, n_steps: int, drop: float | None) -> str:
    """How little the weights moved, and how the loss did, in words."""
    moved = (
        f"each step changes the weights by {steps.median_ratio:.2g} of their norm (about 1e-3 is healthy)"
        if steps.tiny
        else f"each step changes the weights by {steps.median_ratio:.2g} of their norm (about 1e-3 is "
        f"healthy), {steps.travel:.2g} of it over all {n_steps} steps"
    )
    fell = (
        ""
        if drop is None
        else " and the loss did not fall"
        if drop <= 0
        else f" and the loss fell only {100 * drop:.1f}%"
    )
    if steps.slow and drop is not None and drop >= SMALL_LOSS_DROP:
        fell = f", and the loss was still falling when training stopped (it fell {100 * drop:.0f}%)"
    if steps.way_to_go is not None:
        fell += f"; at this pace it would take about {steps.way_to_go:.0f}x the run to finish"
    return moved + fell


def _raise_lr(ev: Evidence) -> Change:
    """Raise the learning rate: to the range test's steepest descent, 30x, or 1e-3."""
    lr = user_lr(ev)
    suggested = ev.probes.lr_range.suggested_lr if ev.probes.lr_range is not None else None
    if suggested is not None:
        new_lr, basis = suggested, "range_test"
    elif lr is not None and lr > 0:
        new_lr, basis = lr * FALLBACK_LR_FACTOR, "factor"
    else:
        new_lr, basis = 1e-3, "default"
    params = {"optimizer": optimizer_name(ev), "basis": basis, "factor": FALLBACK_LR_FACTOR}
    return Change("raise_learning_rate", what="learning_rate", current=lr, proposed=new_lr, params=params)


@register
class WeightsBarelyMove(Check):
    """The learning rate is too low: the weights barely move within the training budget.

    What it detects:
        Steps that change the weights by less than 1e-5 of their norm (about 1e-3 is healthy), or steps
        below 1e-3 that add up to less than a tenth of the weights' norm over the whole run, while the loss
        drops by less than 10% and the model misbehaves; when the LR range test ran, a learning rate at
        least 30x larger must descend fastest, unless the gradients were clipped to a constant (tiny) norm,
        which makes the steps small whatever the learning rate. Steps below 1e-3 also count, however far the
        loss fell, when the LR range test puts the learning rate 30x or more below its steepest descent and
        the loss was still falling when training stopped (DP510's test): the learning rate set the pace.
        Weights that travel under a tenth of their norm count however far the loss fell, when the range test
        puts the learning rate 30x or more below its steepest descent: that fall is the output bias alone.
        So does a loss still falling that would need ten times the run or more to finish, at a learning rate
        30x or more below the range test's: an adaptive optimizer's steps stay a healthy share of the weights
        however small its rate, so the way still to go shows what the step size cannot.

    Why it makes the output constant:
        A freshly initialised network often outputs nearly the same thing for every input, and the first
        thing training learns is the output bias: the class prior or the target mean. With tiny steps training
        never gets past that stage, so the output stays (nearly) constant.

    Fix:
        Raise the learning rate towards the LR range test's suggestion, e.g.
        ``torch.optim.Adam(model.parameters(), lr=1e-3)`` (``SGD`` usually needs 1e-2 to 1e-1); when the
        gradients are clipped to a tiny norm, clip to a larger one:
        ``torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)``.
    """

    code = "DP402"
    name = "weights-barely-move"
    category = "optim.lr_too_low"
    requires = ("training",)

    def judge(self, ev: Evidence) -> Finding | None:
        tr = ev.training
        assert tr is not None
        ratios = np.asarray(tr.update_ratio, dtype=float)
        ratios = ratios[np.isfinite(ratios)]
        if tr.steps <= 0 or len(ratios) == 0 or tr.first_nonfinite_loss_step is not None:
            return None
        steps = _steps(ev, tr, ratios)
        if not (steps.tiny or steps.short_travel or steps.slow):
            return None
        if ev.model is not None and ev.model.initial_weights:
            scale = np.median([w.std / max(w.expected_std, 1e-12) for w in ev.model.initial_weights])
            if scale >= LARGE_INIT_FACTOR:
                return None
        clip = _clip(tr)
        grads = np.asarray(tr.grad_norm, dtype=float)
        grads = grads[np.isfinite(grads)]
        if clip is None and len(grads) and float(np.median(grads)) < VANISHED_GRAD_NORM:
            return None
        return self._weigh(ev, tr, steps, clip)

    def _weigh(self, ev: Evidence, tr: TrainingStats, steps: _Steps, clip: float | None) -> Finding | None:
        """Small steps: the finding, unless the loss fell far anyway, the range test does not want a much
        larger learning rate, or the model does well."""
        evidence: dict[str, object] = {
            "median_update_ratio": steps.median_ratio,
            "weight_travel": steps.travel,
        }
        strength = STRENGTH
        _, loss = loss_curve(tr)
        drop: float | None = None
        if len(loss) >= 3:
            start, end = head(loss), tail(loss)
            drop = (start - end) / max(abs(start), 1e-12)
            evidence["loss_start"], evidence["loss_end"], evidence["relative_loss_drop"] = start, end, drop
            # A loss that fell is no alibi when the weights went (nearly) nowhere and the range test wants
            # a far larger rate: the fall is the output bias learning the target mean or the class prior.
            if drop >= SMALL_LOSS_DROP and not (steps.slow or (steps.short_travel and steps.far_below_range)):
                return None
        else:
            strength -= STRENGTH_NO_CURVE_PENALTY
        lr = user_lr(ev)
        suggested = ev.probes.lr_range.suggested_lr if ev.probes.lr_range is not None else None
        evidence["lr"] = lr
        evidence["loss_still_falling"] = steps.slow
        if clip is not None:
            # The LR range test steps without the user's clipping, so it cannot speak to these steps.
            evidence["clipped_grad_norm"] = clip
            strength += STRENGTH_LR_RANGE_BONUS
        elif suggested is not None and lr is not None and lr > 0:
            evidence["suggested_lr"] = suggested
            if suggested < FAR_BELOW_RANGE * lr:
                return None
            strength += STRENGTH_LR_RANGE_BONUS
        if not misbehaving(ev):
            return None
        evidence.update(symptom_evidence(ev))
        moved = _words(steps, tr.steps, drop)
        if clip is not None:
            return self.finding(
                ev,
                message=f"the weights barely move: the gradients are clipped to norm {clip:.2g} at every "
                f"step, so {moved}; the clipping makes the steps far smaller than the learning rate intends.",
                change=Change(
                    "raise_clip_norm",
                    what="max_grad_norm",
                    current=clip,
                    proposed=USUAL_MAX_NORM,
                    params={"optimizer": optimizer_name(ev)},
                ),
                evidence=evidence,
                strength=strength,
            )
        return self.finding(
            ev,
            message=_lr_message(tr, steps, lr, moved),
            change=_raise_lr(ev),
            evidence=evidence,
            strength=strength,
        )


def _lr_message(tr: TrainingStats, steps: _Steps, lr: float | None, moved: str) -> str:
    """The finding's words for a learning rate too small (and a schedule that made it so)."""
    lr_text = f"{lr:.3g}" if lr is not None else "the learning rate"
    start_lr = tr.optimizer.start_lr if tr.optimizer is not None else None
    if lr is not None and start_lr is not None and start_lr >= DECAYED * lr:
        lr_text += f" (the learning-rate schedule brought it down from {start_lr:.3g})"
    lead = (
        "the learning rate sets the pace"
        if steps.way_to_go is not None and not (steps.tiny or steps.short_travel)
        else "the weights barely move"
    )
    return f"{lead}: {moved}; {lr_text} is too small a learning rate for this model."
