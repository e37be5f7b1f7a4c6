"""The base of every desired-state model: strict, closed, immutable.

In a module of its own so that each part of the format (limits, members, storage, ...) can build on it
without importing `schema`, which imports them all.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["DesiredModel"]


class DesiredModel(BaseModel):
    """Unknown keys, wrong types and edits after loading are all refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
