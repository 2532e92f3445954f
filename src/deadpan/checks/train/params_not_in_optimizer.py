"""DP504 params-not-in-optimizer."""

from __future__ import annotations

from deadpan.checks.base import Check, register
from deadpan.evidence import Evidence
from deadpan.findings import Change, Finding, Severity

#: Strength grows with the fraction of trainable parameters (elements) no optimizer updates:
#: ``STRENGTH_BASE + fraction``, reaching ``STRENGTH_MAX`` once half of the parameters are left out.
STRENGTH_BASE = 0.4
STRENGTH_MAX = 0.9
#: From this fraction of the trainable parameters left out the finding is an error, below it a warning
#: (a forgotten bias or small head rarely makes the output constant on its own).
ERROR_FRACTION = 0.1
#: Parameter names listed in the message at most.
MAX_NAMES = 5


@register
class ParamsNotInOptimizer(Check):
    """Trainable parameters that no optimizer updates.

    What it detects:
        Parameters with ``requires_grad=True`` that are in none of the optimizer's parameter groups, e.g. an
        optimizer built from one submodule (``model.encoder.parameters()``), created before layers were added,
        or layers kept in a plain Python list that the optimizer was given separately or not at all.

    Why it makes the output constant:
        Those parameters keep their initial random values. When they include the output layer (or a layer
        every input passes through) the model cannot adapt its output: the rest of the network can only learn
        the part of the mapping the frozen layer lets through, often just a bias, i.e. a constant.

    Fix:
        Build the optimizer from every parameter, ``torch.optim.Adam(model.parameters(), lr=...)``, after the
        whole model is built; register sub-layers as module attributes or in ``nn.ModuleList`` (not a Python
        list) so that ``model.parameters()`` includes them.
    """

    code = "DP504"
    name = "params-not-in-optimizer"
    category = "train.loop"
    requires = ("model",)

    def judge(self, ev: Evidence) -> Finding | None:
        model = ev.model
        assert model is not None
        missing = model.params_not_in_optimizer
        if missing <= 0:
            return None
        fraction = min(1.0, missing / model.n_trainable) if model.n_trainable > 0 else 1.0
        names = list(model.unoptimized_names)
        shown = ", ".join(f"`{n}`" for n in names[:MAX_NAMES]) + (
            f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else ""
        )
        change = Change(
            "optimize_all_params",
            what="optimizer parameters",
            current=missing,
            params={"names": names[:MAX_NAMES], "more": max(0, len(names) - MAX_NAMES)},
        )
        return self.finding(
            ev,
            message=f"{missing} trainable parameters ({100 * fraction:.0f}% of {model.n_trainable}) are in "
            "no optimizer parameter group"
            + (f": {shown}" if names else "")
            + "; they keep their initial values "
            "however long the model trains.",
            change=change,
            evidence={
                "params_not_in_optimizer": missing,
                "n_trainable": model.n_trainable,
                "fraction": fraction,
                "unoptimized_names": names,
            },
            strength=min(STRENGTH_MAX, STRENGTH_BASE + fraction),
            severity=Severity.ERROR if fraction >= ERROR_FRACTION else Severity.WARNING,
        )
