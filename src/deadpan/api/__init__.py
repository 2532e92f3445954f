"""The notebook and in-loop ways in: :func:`diagnose` and :func:`watch`.

Both leave the user's model, optimizer, data and random state exactly as they found them: probes run on
deep copies, hooks are removed on exit, and the RNG state is restored after anything that might draw.
"""

from __future__ import annotations

from deadpan.api.diagnose import diagnose
from deadpan.api.watch import Watch, watch

__all__ = ["Watch", "diagnose", "watch"]
