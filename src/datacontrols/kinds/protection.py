"""How strongly a setting protects data, so a plan can say which changes weaken it.

Severity rule (shared by every data-protection kind): a difference is `critical` when applying it would
weaken protection, and also when live state is weaker than desired (someone opened a hole that the apply
would close). Differences that leave protection equal are `medium`. When strength cannot be judged (an
unknown value, an unreadable organization setting) the difference is `high`: a person should look.
"""

from __future__ import annotations

from datacontrols.plan import Severity

__all__ = ["effective_retention", "retention_severity", "retention_strength"]

# Higher protects more. The `enhanced_*` variants are undocumented refinements; they are ranked just above
# their plain counterparts so that moving off them still counts as weakening.
_RETENTION_STRENGTH = {
    "none": 1,
    "modified_abuse_monitoring": 2,
    "enhanced_modified_abuse_monitoring": 3,
    "zero_data_retention": 4,
    "enhanced_zero_data_retention": 5,
}


def effective_retention(project_type: str | None, organization_type: str | None) -> str | None:
    """A project's retention as it applies to traffic: `organization_default` resolves to the org's."""
    if project_type == "organization_default":
        return organization_type
    return project_type


def retention_strength(retention: str | None) -> int | None:
    return _RETENTION_STRENGTH.get(retention) if retention is not None else None


def retention_severity(before: str | None, after: str | None) -> Severity:
    """Severity of moving effective retention from `before` to `after`."""
    strength_before, strength_after = retention_strength(before), retention_strength(after)
    if strength_before is None or strength_after is None:
        return "high"
    return "medium" if strength_before == strength_after else "critical"
