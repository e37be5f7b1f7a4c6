"""What a project's API keys may do (`keys: allowed_scopes`), read from the audit log.

Listing and retrieving a key never answer its scopes; the SDK's key update sets them and the audit log
records each setting: `api_key.created{data.scopes}` and `api_key.updated{changes_requested.scopes}`. The
newest such event of a key is its scopes now (`[]`, or a creation that names none: all permissions). A key
the log has no record of (made before the log's window, or while audit logging was off) cannot be checked:
it is noted, never flagged, since nothing shows that it breaks the rule.

`fix: scopes` narrows a key to the allowed scopes it has (a key with all permissions: to `allowed_scopes`).
It never sends `[]`, which would grant all permissions, so a key none of whose scopes is allowed stays a
report that says to rotate it; a key whose scopes are unknown is never written, since the fix could widen
a key narrower than the rule.

The log can lag a write by a little: a plan made right after a fix may still see the old scopes, and plans
the same update again, which sets the same scopes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from datacontrols.errors import ApiError, TransientApiError

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.api_keys import ProjectApiKey
    from datacontrols.desired.members import KeyHygiene

__all__ = ["KeyScopes", "held_scopes", "read_scopes", "scope_fix", "scope_problems", "shown_scopes"]


@dataclass(frozen=True)
class KeyScopes:
    """Key id -> its scopes as the audit log says (`()`: all permissions); a key not in it is unknown.
    `unread`: why the log could not be read (then no key's scopes are known)."""

    by_key: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unread: str | None = None


async def read_scopes(api: AdminApi, keys: Sequence[ProjectApiKey]) -> KeyScopes:
    """One audit-log listing for the keys (more only past 50 keys or 100 events). A refusal (the key may not
    read the log, or the organization has audit logging off) is kept, not raised: the key inventory stays
    useful without its scopes. A transient failure is raised, as for any read: the run is retried."""
    if not keys:
        return KeyScopes()
    try:
        return KeyScopes(by_key=await api.audit_logs.key_scopes([k.id for k in keys]))
    except TransientApiError:
        raise
    except ApiError as error:
        return KeyScopes(unread=f"the audit log refused the read ({error.status}: {error.api_message})")


def shown_scopes(scopes: Sequence[str]) -> str:
    return "[" + ", ".join(scopes) + "]"


def held_scopes(scopes: KeyScopes | None, key: ProjectApiKey) -> str:
    """The key's scopes as a plan shows them: `all permissions`, `[a, b]`, or `unknown`."""
    held = scopes.by_key.get(key.id) if scopes is not None else None
    if held is None:
        return "unknown"
    return shown_scopes(held) if held else "all permissions"


def scope_problems(key: ProjectApiKey, rules: KeyHygiene, scopes: KeyScopes | None) -> tuple[list[str], bool]:
    """Pure: what is wrong with the key's scopes, and whether that flags it (a breach does; unknown does not).
    `scopes` None: not read (explain), so nothing is said."""
    allowed = rules.allowed_scopes
    if allowed is None or scopes is None:
        return [], False
    if scopes.unread is not None:
        return [f"its scopes are not checked: {scopes.unread} (allowed_scopes)"], False
    held = scopes.by_key.get(key.id)
    if held is None:
        return ["its scopes are unknown: the audit log has no record of their setting (allowed_scopes)"], False
    if not held:
        return [f"has all permissions (allowed_scopes: {shown_scopes(allowed)})"], True
    outside = [scope for scope in held if scope not in allowed]
    if outside:
        return [f"may use {shown_scopes(outside)}, outside allowed_scopes {shown_scopes(allowed)}"], True
    return [], False


def scope_fix(
    key: ProjectApiKey, rules: KeyHygiene, scopes: KeyScopes | None, now: int
) -> tuple[str, ...] | str | None:
    """`fix: scopes`: the key's narrowed scopes; a string when they cannot be set (why); None: nothing to fix."""
    allowed = rules.allowed_scopes
    if "scopes" not in rules.fixes or allowed is None or not scope_problems(key, rules, scopes)[1]:
        return None
    if key.expires_at is not None and key.expires_at <= now:
        return "Its scopes cannot be narrowed: it has expired (the API refuses to update an expired key)"
    held = scopes.by_key.get(key.id, ()) if scopes is not None else ()
    kept = tuple(scope for scope in held if scope in allowed) if held else tuple(allowed)
    if not kept:
        return (
            "Its scopes are not narrowed: none of them is allowed, and no scopes at all would mean all "
            "permissions; rotate it"
        )
    return kept
