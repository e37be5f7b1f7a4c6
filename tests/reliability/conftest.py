"""Make the CLI and daemon tests' helpers importable here: reused, not copied (their module names are unique).

Only this: fixtures and helpers live in reliability_support.py (importing from a conftest is ambiguous when
several test directories have one).
"""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for _helpers in ("cli", "daemon"):
    if str(_TESTS / _helpers) not in sys.path:
        sys.path.append(str(_TESTS / _helpers))
