"""The framework scripts double as modules the tests import (``scripts/`` on the path)."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).parent / "scripts"
sys.path.insert(0, str(SCRIPTS))
