"""A broken run never gets "no cause" (issue 19): when the checks name nothing, the intervention search names
the stage a change restores or, when none does, the stage left by elimination, at low confidence.

``make test`` runs a few scenarios with EVERY check off (the catalogue gone: the search alone answers);
``make e2e`` runs every broken scenario with the checks of its own kind off (the leave-one-kind-out setting,
``benchmarks/leave_one_out.py``)."""

from __future__ import annotations

import pytest

from deadpan.checks import all_checks, disabled
from deadpan.fixes.options import VerifyOptions, proven
from deadpan.scenarios.registry import all_scenarios, get
from deadpan.script.autolog import run_callable

AS_RUN = VerifyOptions(workers=1, progress=False, verify=False, search=True)
#: A fault no intervention restores (labels of one value: the elimination answers) and one that an
#: intervention restores (a learning rate too high: the winning trial answers).
WITHOUT_ANY_CHECK = ["single-label", "lr-too-high"]


def _causes(name: str, codes: list[str]) -> tuple[str, list[str]]:
    with disabled(codes):
        result = run_callable(get(name).train)
        report = proven(result.report, result.evidence, result.inputs, AS_RUN)
    return report.verdict, [c.category for c in report.causes]


@pytest.mark.parametrize("name", WITHOUT_ANY_CHECK)
def test_with_every_check_off_a_broken_run_still_gets_a_cause(name: str) -> None:
    verdict, causes = _causes(name, [c.code for c in all_checks()])
    assert verdict in ("collapsed", "degraded")
    assert causes, f"{name}: {verdict} with no cause"


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name", [s.name for s in all_scenarios("torch") if not s.healthy and s.expected is not None]
)
def test_with_its_own_checks_off_a_broken_run_still_gets_a_cause(name: str) -> None:
    kind = get(name).expected
    verdict, causes = _causes(name, [c.code for c in all_checks() if c.category == kind])
    if verdict in ("collapsed", "degraded"):
        assert causes, f"{name}: {verdict} with no cause"


def _never_steps() -> None:
    """A loop that forgets ``optimizer.step()``: the weights never change."""
    import torch
    from factory import blobs
    from torch import nn

    x, y = blobs()
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(60):
        i = slice((step * 32) % 288, (step * 32) % 288 + 32)
        opt.zero_grad()
        nn.functional.cross_entropy(model(xt[i]), yt[i]).backward()  # BUG: no opt.step()


def test_a_run_that_never_stepped_is_searched_from_its_unchanged_model() -> None:
    # No optimizer step: no snapshot was taken at a first step, and none is needed, since the model as it
    # ends is the model it started as. With the loop checks off, the corrected loop restores it.
    loop_checks = [c.code for c in all_checks() if c.category == "train.loop"]
    with disabled(loop_checks):
        result = run_callable(_never_steps)
        report = proven(result.report, result.evidence, result.inputs, AS_RUN)
    assert report.verdict in ("collapsed", "degraded")
    assert report.causes and report.causes[0].category == "train.loop"
    assert "not_searched" not in report.metrics["search"]
