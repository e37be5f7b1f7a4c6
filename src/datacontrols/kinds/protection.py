"""How strongly a setting protects data, so a plan can say which changes weaken it and which may cut off
traffic: the words behind `Change.weakens` (critical) and `Change.disrupts` (high) of the data-protection
kinds. A change that does neither tightens or corrects (normal); see `datacontrols.plan` for the rule.
"""

from __future__ import annotations

__all__ = [
    "effective_retention",
    "retention_strength",
    "retention_weakening",
    "widened_models",
    "withdrawn_models",
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


def withdrawn_models(before: tuple[str, frozenset[str]] | None, after: tuple[str, frozenset[str]] | None) -> str | None:
    """What a model policy change (mode, ids; None = no policy) takes away, or None when every model usable
    before still is: requests to a withdrawn model are refused, so the change may interrupt traffic."""
    if after is None:
        return None  # no policy: every model usable
    (mode_after, ids_after) = after
    if before is None:
        if mode_after == "allow_list":
            return "every model outside the allow list stops being usable: requests to them will be refused"
        return f"requests to {', '.join(sorted(ids_after))} will be refused" if ids_after else None
    mode_before, ids_before = before
    if mode_before == "deny_list" and mode_after == "allow_list":
        return "replaces the deny list with an allow list: models outside it stop being usable"
    if mode_after == "allow_list":
        closed = ids_before - ids_after
    else:
        closed = ids_after - ids_before if mode_before == "deny_list" else ids_after & ids_before
    if not closed:
        return None
    return f"requests to {', '.join(sorted(closed))} will be refused"
