"""The desired-state format of the safety thresholds: `safety:` in organization.yaml.

    safety:                                  # organization.yaml; every key optional
      archives: {max_percent: 25, min_changes: 2}
      removals: {max_percent: 25, min_changes: 2, max_changes: 20}
      updates:  {max_percent: 50, min_changes: 10}
      creates:  {max_changes: 20}            # projects created by one plan

A plan whose applicable changes of one category exceed its threshold is refused before any write (see
`datacontrols.safety`, which also says what each category counts and against what). A threshold is
exceeded when more than `max_changes` changes are involved, or when at least `min_changes` are and they
are more than `max_percent` of what is managed. The defaults are conservative (peribolos refuses removing
more than 25%); raising one is a reviewed change to this file, and a single plan can be let through once
with `--allow-unsafe PLAN_DIGEST` instead of raising it for good.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SAFETY_DESCRIPTION",
    "ArchivesThreshold",
    "CreatesThreshold",
    "RemovalsThreshold",
    "SafetySettings",
    "Threshold",
    "UpdatesThreshold",
]

SAFETY_DESCRIPTION: Final = (
    "Thresholds checked before any write: a plan that archives, removes or updates more than these shares of "
    "what is managed is refused (override one plan with --allow-unsafe PLAN_DIGEST)"
)
_PERCENT = "Refuse when the changes are more than this percentage of what is managed"
_MIN = "The percentage applies only when at least this many changes are involved"
_MAX = "Refuse when more than this many changes are involved, whatever the percentage; absent = no such cap"


class Threshold(BaseModel):
    """One category's limits. Subclasses only change the defaults."""

    # The configuration of `schema.DesiredModel` (importing it here would make a cycle).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    max_percent: float = Field(default=25.0, ge=0, le=100, description=_PERCENT)
    min_changes: int = Field(default=2, ge=1, description=_MIN)
    max_changes: int | None = Field(default=None, ge=0, description=_MAX)


class ArchivesThreshold(Threshold):
    """Archived projects against the live active projects."""


class RemovalsThreshold(Threshold):
    """Deleted members, keys, policies against the items of the kinds being deleted from."""


class UpdatesThreshold(Threshold):
    """Updated settings against every managed setting."""

    max_percent: float = Field(default=50.0, ge=0, le=100, description=_PERCENT)
    min_changes: int = Field(default=10, ge=1, description=_MIN)


class CreatesThreshold(BaseModel):
    """Projects created by one plan, by count only: projects cannot be deleted, only archived, so a plan that
    would create many (a generated file tree gone wrong) is refused. A share of the live projects would refuse
    every first apply to a young organization, so there is no percentage here."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    max_changes: int = Field(default=20, ge=0, description="Refuse a plan that creates more than this many projects")


class SafetySettings(BaseModel):
    """`safety:` in organization.yaml; a category left out keeps its defaults."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    archives: ArchivesThreshold = Field(
        default_factory=ArchivesThreshold, description="Projects archived, against the live active projects"
    )
    removals: RemovalsThreshold = Field(
        default_factory=RemovalsThreshold,
        description="Members, keys and policies deleted, against the live items of the kinds deleted from",
    )
    updates: UpdatesThreshold = Field(
        default_factory=UpdatesThreshold, description="Settings updated, against every managed setting"
    )
    creates: CreatesThreshold = Field(
        default_factory=CreatesThreshold,
        description="Projects created by one plan (projects cannot be deleted): refused above max_changes",
    )
