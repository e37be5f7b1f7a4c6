"""The base of every desired-state model: strict, closed, immutable.

In a module of its own so that each part of the format (limits, members, storage, ...) can build on it
without importing `schema`, which imports them all.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

__all__ = ["DesiredModel", "Text"]

# A string that says something: surrounding blanks dropped, empty refused.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class DesiredModel(BaseModel):
    """Unknown keys, wrong types and edits after loading are all refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
