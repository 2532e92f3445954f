"""A generator (a GAN's), judged by the diversity of its samples: it has no targets of its own (the loss it
trains on is its discriminator's verdict on its samples), so the question "the same output for every input"
is asked directly: does it give nearly the same sample for every ``z``?

The samples are the trained generator's outputs on the noise it was last trained on (kept by the recorder,
:meth:`~deadpan.capture.loss_events.LossEvents._keep_generator_inputs`); their spread is compared with the
data the discriminator was shown as real (``ProbeInputs.reference``), or, without it, with the samples' own
magnitude.
"""

from __future__ import annotations

import torch

from deadpan.capture.build import ProbeInputs
from deadpan.evidence import Evidence, Probes, Task, TrainingStats
from deadpan.probes.outputs import main_output, sample_diversity
from deadpan.probes.tensors import preserved_rng


def generator_evidence(
    pi: ProbeInputs, training: TrainingStats | None, missing: list[str], errors: list[str]
) -> Evidence:
    """The evidence on a generator: its samples' diversity as the output probe, the task ``generative``."""
    assert pi.final is not None and pi.recorder is not None and pi.recorder.generator_inputs is not None
    args, kwargs = pi.recorder.generator_inputs
    model = pi.final.eval()
    with torch.no_grad(), preserved_rng():
        samples = main_output(model(*args, **kwargs))
    probe = sample_diversity(samples, pi.reference)
    width = int(samples.shape[-1]) if samples.dim() > 1 else 1
    return Evidence(
        source=pi.source,
        task=Task("generative", None, width),
        training=training,
        probes=Probes(train_output=probe),
        missing=tuple(missing),
        internal_errors=tuple(errors),
    )
