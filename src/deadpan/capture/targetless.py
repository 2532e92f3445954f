"""Models whose outputs have no targets of their own, judged by how much their outputs differ from input to
input: "the same output for every input" asked directly.

- A **generator** (a GAN's): the loss it trains on is its discriminator's verdict on its samples. Its samples
  for the noise it was last trained on are compared with the data the discriminator was shown as real
  (``ProbeInputs.reference``), or, without it, with their own magnitude: mode collapse is one sample for
  every ``z``.
- An **embedding model** (metric learning: a triplet or cosine-embedding loss compares its outputs with each
  other): its embeddings of a kept training batch, measured on the loss's own scale: the directions'
  spread for a cosine loss, the spread in units of the triplet margin for a triplet loss. Collapse is every
  input mapped to (nearly) one point, where the loss can no longer tell examples apart.

The inputs are kept by the recorder
(:meth:`~deadpan.capture.loss_events.LossEvents._keep_unpaired_inputs`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deadpan.capture.build import model_stats
from deadpan.capture.probe_inputs import ProbeInputs
from deadpan.evidence import DataStats, Evidence, OutputProbe, Probes, Task, TrainingStats
from deadpan.probes.arrays import to_numpy
from deadpan.probes.forward import main_output
from deadpan.probes.layers import probe_layers
from deadpan.probes.outputs import sample_diversity
from deadpan.probes.rng import preserved_rng


def targetless_evidence(
    pi: ProbeInputs, training: TrainingStats | None, missing: list[str], errors: list[str]
) -> Evidence:
    """The evidence on a model without targets: its outputs' diversity as the output probe, the task
    ``generative`` (a generator) or ``embedding`` (an embedding model)."""
    assert pi.final is not None and pi.recorder is not None and pi.recorder.unpaired_inputs is not None
    args, kwargs = pi.recorder.unpaired_inputs
    model = pi.final.eval()
    with torch.no_grad(), preserved_rng():
        out = main_output(model(*args, **kwargs))
    embedding = pi.loss is not None and pi.recorder.other_model_losses == 0
    reference = to_numpy(pi.reference) if pi.reference is not None else None
    probe = _embedding_spread(out, pi) if embedding else sample_diversity(to_numpy(out), reference)
    width = int(out.shape[-1]) if out.dim() > 1 else 1
    layered = _layers(model, args, kwargs, errors)
    layers, signals = layered if layered is not None else ((), ())
    return Evidence(
        source=pi.source,
        task=Task("embedding" if embedding else "generative", None, width),
        data=_pair_labels(pi),
        model=model_stats(pi, model, layers),
        training=training,
        probes=Probes(train_output=probe, layers=signals),
        missing=tuple(missing),
        internal_errors=tuple(errors),
    )


def _pair_labels(pi: ProbeInputs) -> DataStats | None:
    """A pair loss's labels as the data's targets (+1 similar, -1 dissimilar): all one label teaches the
    model to pull every pair together (or push every pair apart), and the data checks say so (DP103)."""
    assert pi.recorder is not None
    if not pi.recorder.pair_labels:
        return None
    y = torch.cat(pi.recorder.pair_labels).float().numpy()
    return DataStats(x=np.zeros((0,)), y=y, samples_seen=pi.recorder.samples_seen)


def _layers(model: nn.Module, args: Any, kwargs: Any, errors: list[str]) -> Any:
    """The layer-by-layer probe on the kept inputs (the checks on weights, dead units, saturation read it);
    a failure is an internal error, not the end of the diagnosis."""
    try:
        with preserved_rng():
            return probe_layers(model, args, kwargs)
    except Exception as exc:
        errors.append(f"probe layers: {type(exc).__name__}: {exc}")
        return None


def _embedding_spread(emb: torch.Tensor, pi: ProbeInputs) -> OutputProbe:
    """Embeddings on the loss's own scale: unit directions for a cosine loss (their spread is 1 when they
    point every way, 0 when one way), the triplet margin for a triplet loss (a spread of a small share of
    the margin leaves every triplet at the loss ``margin``: nothing separates)."""
    assert pi.loss is not None
    e = emb.detach().float().cpu().reshape(len(emb), -1)
    if pi.loss.function == "cosine_embedding_loss":
        unit = F.normalize(e, dim=1)
        return sample_diversity(to_numpy(unit), None, scale=1.0 / max(unit.shape[1], 1) ** 0.5)
    margin = float(pi.loss.kwargs.get("margin", 1.0) or 1.0)
    return sample_diversity(to_numpy(e), None, scale=margin / max(e.shape[1], 1) ** 0.5)
