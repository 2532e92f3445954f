"""deadpan: why does my network give the same answer to every input?

The public API: :func:`diagnose` probes a model and data in a notebook, :func:`watch` monitors the user's own
training loop, and :class:`Report` is what both return. ``deadpan run train.py`` does the same for an
unmodified script.
"""

from __future__ import annotations

from deadpan.findings import Cause, Collapse, Finding, Report, Severity

__version__ = "0.1.0"

__all__ = ["Cause", "Collapse", "Finding", "Report", "Severity", "__version__"]
