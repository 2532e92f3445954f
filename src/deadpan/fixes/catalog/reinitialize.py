"""Re-initialise the weights with the standard scheme for each layer's activation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding
from deadpan.fixes.base import Fix, NotApplicable, TrialSetup, register
from deadpan.fixes.keras_trial import KerasTrialSetup, reinitialized
from deadpan.phrasebook import framework_of, render

if TYPE_CHECKING:
    from torch import nn

#: ReLU-like activation modules (``torch.nn`` classes): a weight layer before one gets He initialisation.
RELU_LIKE = ("ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "ReLU6")


def _followed_by_relu(modules: list[nn.Module], i: int) -> bool:
    """Is the next activation module after ``modules[i]`` (before the next weight layer) ReLU-like?"""
    from torch import nn

    from deadpan.fixes.modules import WEIGHTED

    relu_like = tuple(getattr(nn, name) for name in RELU_LIKE)
    for m in modules[i + 1 :]:
        if isinstance(m, WEIGHTED):
            return False
        if isinstance(m, relu_like):
            return True
    return False


def reinitialize(model: nn.Module) -> int:
    """He-normal weights before ReLU-family activations, Glorot-uniform elsewhere, zero biases; returns the
    number of layers re-initialised. Embedding and recurrent layers keep their own initialisers' scheme."""
    from torch import nn

    from deadpan.fixes.modules import WEIGHTED

    modules = list(model.modules())
    done = 0
    for i, m in enumerate(modules):
        if isinstance(m, WEIGHTED):
            if _followed_by_relu(modules, i):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            else:
                nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
            done += 1
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight)
            done += 1
        elif isinstance(m, nn.RNNBase):
            m.reset_parameters()
            done += 1
    return done


@register
class Reinitialize(Fix):
    """Draw every weight afresh: He initialisation for layers feeding a ReLU, Glorot elsewhere, biases zero
    (PyTorch's own ``reset_parameters`` for embeddings and recurrent layers). Weights that start equal keep
    their units identical, too large or too small ones saturate, explode or kill the signal; a standard
    initialisation keeps every layer's output at the scale of its input."""

    name = "reinitialize"
    title = "re-initialising the weights (He/Glorot)"
    categories = ("init.symmetry", "init.scale", "model.dead_units")

    def apply(self, setup: TrialSetup, ev: Evidence, findings: tuple[Finding, ...]) -> TrialSetup:
        model = setup.model_copy()
        if reinitialize(model) == 0:
            raise NotApplicable("the model has no Linear, Conv, Embedding or recurrent layer to reset")
        return setup.but(self.name, model=model)

    def apply_keras(
        self, setup: KerasTrialSetup, ev: Evidence, findings: tuple[Finding, ...]
    ) -> KerasTrialSetup:
        config = setup.config_copy()
        if reinitialized(config) == 0:
            raise NotApplicable("the model has no layer with a kernel to re-initialise")
        return setup.but(self.name, config=config, weights=None)

    def advice(self, ev: Evidence, findings: tuple[Finding, ...]) -> str:
        return render(Change("reinitialize", what="weight init", proposed="standard"), framework_of(ev))
