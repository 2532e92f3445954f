"""What a live collapse alert says and where: the warning at the user's own line, and the cause it may name
(the top cause of a quick diagnosis, never one only the end of a run can show)."""

from __future__ import annotations

import os
import site
import sys
import types
import warnings
from typing import Any

from deadpan.capture.live import Alert, CollapseWarning

#: Frames of these folders are not the user's line: deadpan's own, and installed packages (torch, a trainer).
_NOT_USER_DIRS = (
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,
    *(p + os.sep for p in site.getsitepackages()),
)


def _user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning name the user's line (their ``optimizer.step()``, their
    ``trainer.fit()``) rather than deadpan's or a library's; the warner's caller when none is the user's."""
    frame: types.FrameType | None = sys._getframe(2)
    level = 2
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith(_NOT_USER_DIRS) and not name.startswith("<frozen"):
            return level
        frame, level = frame.f_back, level + 1
    return 2


def warn(alert: Alert) -> None:
    """The plain warning every path emits (Lightning's adds its own logger), at the user's line."""
    warnings.warn(alert.message(), CollapseWarning, stacklevel=_user_stacklevel())


#: Causes that only the end of a run can show: mid-run, "the loss is still falling" is what training is.
END_OF_RUN_CAUSES = ("train.too_short",)


def top_cause(report: Any) -> str:
    """The top cause of a (quick) report that a live alert can name (not one of :data:`END_OF_RUN_CAUSES`):
    its category and summary, or "" when it names none."""
    causes = [c for c in getattr(report, "causes", ()) if c.category not in END_OF_RUN_CAUSES]
    if not causes:
        return ""
    c = causes[0]
    return f"{c.category}: {c.summary}" if c.summary else str(c.category)
