"""deadpan: why does my network give the same answer to every input?

The public API: :func:`diagnose` probes a model and data in a notebook, :func:`watch` monitors the user's own
training loop, and :class:`Report` is what both return. ``deadpan run train.py`` does the same for an
unmodified script. torch is imported only when ``diagnose`` or ``watch`` is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deadpan.findings import Cause, Collapse, Finding, Report, Severity

if TYPE_CHECKING:
    from deadpan.api import Watch, diagnose, watch

__version__ = "0.1.0"

__all__ = ["Cause", "Collapse", "Finding", "Report", "Severity", "Watch", "__version__", "diagnose", "watch"]


def __getattr__(name: str) -> Any:
    if name in ("diagnose", "watch", "Watch"):
        from deadpan import api

        return getattr(api, name)
    raise AttributeError(f"module 'deadpan' has no attribute {name!r}")
