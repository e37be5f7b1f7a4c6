"""The organization's data retention (zero data retention, modified abuse monitoring, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datacontrols.desired.schema import DesiredState
from datacontrols.errors import AuthError, BadRequest, NotFound
from datacontrols.kinds.base import NotExportable, OrganizationKind, World
from datacontrols.kinds.protection import retention_weakening
from datacontrols.plan import Change, FieldChange

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi

__all__ = ["OrganizationDataRetention", "Unreadable", "export_retention"]


@dataclass(frozen=True)
class Unreadable:
    """The API refused to show the setting (an org not approved for it may get a 4xx): not drift."""

    reason: str


def export_retention(value: Any) -> dict[str, Any] | None:
    """`data_retention: <type>`, for the organization and for a project alike."""
    if isinstance(value, Unreadable):
        raise NotExportable(f"it could not be read: {value.reason}")
    return {"data_retention": value} if isinstance(value, str) else None


class OrganizationDataRetention(OrganizationKind):
    name = "organization_data_retention"
    group = "data_retention"
    order = 10
    audit_event_types = ()
    exports = True

    def manages(self, desired: DesiredState) -> bool:
        return desired.organization.organization.data_retention is not None

    def reads(self, desired: DesiredState) -> bool:
        """Read also when any project manages retention: `organization_default` resolves to this value."""
        policy = desired.organization.policy
        if policy is not None and policy.data_retention is not None:
            return True  # the policy checks what live projects' organization_default resolves to
        return self.manages(desired) or any(desired.effective(p).data_retention is not None for p in desired.projects)

    async def observe(self, api: AdminApi) -> str | Unreadable:
        try:
            return (await api.retention.get_organization()).type
        except (BadRequest, NotFound) as exc:
            return Unreadable(exc.message)
        except AuthError as exc:
            if exc.status == 403:  # entitlement or scope: not a reason to stop the whole run
                return Unreadable(exc.message)
            raise

    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        want = desired.organization.organization.data_retention
        if want is None or observed == want:
            return []
        if isinstance(observed, Unreadable):
            return [
                Change(
                    action="report",
                    kind=self.name,
                    order=self.order,
                    project=None,
                    severity="high",
                    reason=f"could not read the organization's data retention: {observed.reason}",
                )
            ]
        return [
            Change(
                action="update",
                kind=self.name,
                order=self.order,
                project=None,
                fields={"type": FieldChange(observed, want)},
                reason="organization data retention differs from the desired state",
                weakens=retention_weakening(observed, want),
                exposes=retention_weakening(want, observed),  # live weaker than the files: opened by hand
            )
        ]

    async def apply(self, api: AdminApi, change: Change) -> None:
        await api.retention.update_organization(change.fields["type"].after)

    def export(self, observed: Any) -> dict[str, Any] | None:
        return export_retention(observed)
