"""The base of every desired-state model: strict, closed, immutable.

In a module of its own so that each part of the format (limits, members, storage, ...) can build on it
without importing `schema`, which imports them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, StringConstraints

__all__ = ["EMAIL_SHAPE", "DesiredModel", "Text", "check_emails"]

# Loose on purpose: the organization's user list decides who exists; this catches a name typed for an address.
EMAIL_SHAPE: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_emails(emails: Iterable[str]) -> None:
    """Refuse (ValueError, for a pydantic validator) what is not an email, and one address spelled twice:
    emails are matched without regard to case."""
    seen: dict[str, str] = {}
    for email in emails:
        if not EMAIL_SHAPE.match(email):
            raise ValueError(f"{email!r} is not an email address; users are named by email")
        folded = email.casefold()
        if folded in seen:
            raise ValueError(f"{email!r} and {seen[folded]!r} are the same address (emails ignore case)")
        seen[folded] = email


# A string that says something: surrounding blanks dropped, empty refused.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class DesiredModel(BaseModel):
    """Unknown keys, wrong types and edits after loading are all refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
