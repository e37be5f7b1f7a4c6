"""How strongly a setting protects data, so a plan can say which changes weaken it.

Severity rule (shared by every data-protection kind): a difference is `critical` when applying it would
weaken protection, and also when live state is weaker than desired (someone opened a hole that the apply
would close). Differences that leave protection equal are `medium`. When strength cannot be judged (an
unknown value, an unreadable organization setting) the difference is `high`: a person should look.
"""

from __future__ import annotations

from datacontrols.plan import Severity

__all__ = [
    "effective_retention",
    "retention_severity",
    "retention_strength",
    "retention_weakening",
    "widened_models",
]

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


_ZERO_DATA_RETENTION = _RETENTION_STRENGTH["zero_data_retention"]


def retention_weakening(before: str | None, after: str | None) -> str | None:
    """What moving effective retention from `before` to `after` weakens, or None when it does not.

    Weakening: to a retention that protects less. When the current protection is unknown (an unreadable
    organization setting), a target below zero data retention counts as weakening too: nobody can say it is not.
    """
    strength_before, strength_after = retention_strength(before), retention_strength(after)
    if strength_after is None:
        return None if strength_before is None else f"weakens data retention ({before} -> an unrecognised value)"
    if strength_before is None:
        if strength_after < _ZERO_DATA_RETENTION:
            return f"sets data retention to {after}, and the retention it replaces is unknown"
        return None
    if strength_after >= strength_before:
        return None
    what = "zero data retention" if strength_before >= _ZERO_DATA_RETENTION else "data retention"
    return f"weakens {what} ({before} -> {after})"


def widened_models(before: tuple[str, frozenset[str]] | None, after: tuple[str, frozenset[str]] | None) -> str | None:
    """What a model policy change (mode, ids; None = no policy) opens up, or None when nothing new is usable."""
    if before is None:
        return None  # no policy: every model was usable already
    if after is None:
        return "removes the model policy: every model becomes usable"
    (mode_before, ids_before), (mode_after, ids_after) = before, after
    if mode_after == "deny_list" and mode_before == "allow_list":
        return "replaces the allow list with a deny list: models outside the allow list become usable"
    if mode_after == "allow_list":
        opened = ids_after - ids_before if mode_before == "allow_list" else ids_after & ids_before
    else:
        opened = ids_before - ids_after
    if not opened:
        return None
    return f"makes models usable that were not: {', '.join(sorted(opened))}"
