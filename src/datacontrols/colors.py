"""Whether to colour what goes to a stream: on a terminal, unless NO_COLOR; FORCE_COLOR for CI logs.

`--no-color` sets NO_COLOR for the process, so the plan, the apply's lines and the console logs all agree.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["wants_color"]


def wants_color(stream: Any) -> bool:
    """Colour on a terminal; NO_COLOR (no-color.org) turns it off, FORCE_COLOR on (a CI log that renders ANSI).
    NO_COLOR wins when both are set: asking for no colour is the safer reading."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
