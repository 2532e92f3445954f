"""A ``torch.compile``d model (issue 18): the probes run eager copies of the module it wraps, so they neither
recompile it nor break its graph at their hooks."""

from __future__ import annotations

import torch
from torch import nn

from deadpan.capture.recorder import Recorder


def test_copies_of_a_compiled_model_are_eager_and_start_from_its_initial_weights() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    compiled = torch.compile(model)  # lazy: nothing is compiled until it is called
    rec = Recorder(compiled, (torch.optim.SGD(model.parameters(), lr=0.1),))
    rec._snapshot_initial()
    before = model[0].weight.detach().clone()
    with torch.no_grad():
        model[0].weight.add_(1.0)  # "training"
    initial = rec.model_copy(initial=True)
    final = rec.model_copy()
    rec.stop()
    assert isinstance(initial, nn.Sequential) and isinstance(final, nn.Sequential)
    assert torch.equal(initial[0].weight, before)
    assert torch.equal(final[0].weight, model[0].weight)
