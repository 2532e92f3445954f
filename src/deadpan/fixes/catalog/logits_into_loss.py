"""Give the loss what it expects: logits (or log-probabilities), not probabilities or raw scores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.keras_trial import KerasTrialSetup, activation_of, weight_layers
from deadpan.phrasebook import framework_of, render

if TYPE_CHECKING:
    import torch

#: Probabilities below this are clamped before the log, so a probability that underflowed to 0 gives a large
#: negative logit instead of -inf.
TINY = 1e-30


@dataclass(frozen=True)
class ProbabilitiesToLogits:
    """Wraps the output adapter: probabilities back to logits. For a softmax over classes ``log p`` is the
    logits up to a per-row constant, which a softmax-based loss ignores: ``CE(log softmax z) == CE(z)``,
    so this is exactly the training without the extra softmax. For one sigmoid unit, ``log(p / (1 - p))``
    is the logit itself."""

    inner: Any
    binary: bool

    def __call__(self, raw: Any) -> torch.Tensor:
        import torch

        p = self.inner(raw).clamp(TINY, 1.0)
        if self.binary:
            return torch.log(p) - torch.log((1.0 - p).clamp(min=TINY))
        return torch.log(p)


@dataclass(frozen=True)
class LogSoftmax:
    """Wraps the output adapter: raw scores to log-probabilities over the class axis (for ``nll_loss``)."""

    inner: Any

    def __call__(self, raw: Any) -> torch.Tensor:
        import torch

        return torch.log_softmax(self.inner(raw), dim=1)


def raw_scores_into_nll(ev: Evidence) -> bool:
    """``nll_loss`` got scores that are not log-probabilities (measured at its first call), not softmax
    probabilities (those are undone the other way)."""
    loss = ev.loss
    return (
        loss is not None
        and loss.function == "nll_loss"
        and not loss.input_rows_are_probabilities
        and loss.input_rows_are_log_probabilities is False
    )


@register
class LogitsIntoLoss(Fix):
    """Feed the loss the kind of output it expects. A softmax (or sigmoid) before a loss that applies its
    own squashes the outputs twice: the gradient shrinks to almost nothing and the model settles on the
    prior. Raw scores into ``nll_loss`` need the log-softmax that loss assumes. The trial undoes the extra
    step on the model's outputs, exactly as removing it from the model would."""

    name = "logits-into-loss"
    title = "giving the loss logits"
    categories = ("loss.mismatch",)
    finding_names = ("softmax-into-cross-entropy", "probabilities-into-logits-loss", "nll-on-raw-outputs")

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        names = {f.name for f in findings}
        if "nll-on-raw-outputs" in names or raw_scores_into_nll(ev):
            return setup.but(self.name, adapt=LogSoftmax(setup.adapt))
        if setup.task.kind == "multilabel":
            raise NotApplicable("multi-label outputs: deadpan does not rewrite their loss input")
        return setup.but(self.name, adapt=ProbabilitiesToLogits(setup.adapt, setup.task.kind == "binary"))

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        names = {f.name for f in findings}
        if names & set(self.finding_names) <= {"nll-on-raw-outputs"}:
            raise NotApplicable(
                "in Keras only a softmax/sigmoid before a `from_logits=True` loss is rewritten"
            )
        config = setup.config_copy()
        layers = weight_layers(config)
        old = activation_of(layers[-1]) if layers else "linear"
        if old not in ("softmax", "sigmoid"):
            raise NotApplicable("the squashing activation is not on the last layer")
        layers[-1]["activation"] = "linear"
        return setup.but(f"{self.name} ({old} -> linear)", config=config)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return render(Change("logits_into_loss", what="loss input", proposed="logits"), framework_of(ev))
