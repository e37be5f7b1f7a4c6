"""The base of every desired-state model: strict, closed, immutable.

In a module of its own so that each part of the format (limits, members, storage, ...) can build on it
without importing `schema`, which imports them all.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, StringConstraints

__all__ = ["EMAIL_SHAPE", "DesiredModel", "Text"]

# Loose on purpose: the organization's user list decides who exists; this catches a name typed for an address.
EMAIL_SHAPE: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# A string that says something: surrounding blanks dropped, empty refused.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class DesiredModel(BaseModel):
    """Unknown keys, wrong types and edits after loading are all refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
