"""Hard spend limits (`spend_limit`): the organization's (`project` null in the plan) and each project's.

The desired value is `{amount_usd: ...}` or `none` (remove the limit); the API holds integer cents and
replaces the limit whole. The plan shows amounts as text with their currency (`"500.00 USD"`) under the
API's field name `threshold_amount`, so a reader never has to guess whether a number is dollars or cents.

Severity: setting or lowering a limit tightens (`low`); raising or removing one loosens (`high`). A project
limit above the organization's is not an error (the organization's limit is reached first) but a `report`
that names both amounts: the organization's desired limit when organization.yaml sets one, else its live one.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from datacontrols.adminapi.spend import CURRENCY, INTERVAL, SpendLimit
from datacontrols.desired.limits import SpendLimit as DesiredSpendLimit
from datacontrols.desired.limits import SpendLimitSetting, format_usd, from_cents
from datacontrols.desired.schema import DesiredState
from datacontrols.errors import ApiError, AuthError
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, NotExportable, OrganizationKind, ProjectKind, World
from datacontrols.kinds.organization_retention import Unreadable
from datacontrols.plan import Change, Facts, FieldChange, required

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = ["KIND", "LimitFacts", "OrganizationSpendLimit", "ProjectSpendLimit", "compare_spend_limit", "read_safely"]

KIND = "spend_limit"
T = TypeVar("T")
ORDER = 17


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitFacts(Facts):
    """A spend limit change: the amount a create or update sets, in cents (None on a delete)."""

    threshold_amount: int | None = None


async def read_safely(read: Awaitable[T], what: str) -> T | Unreadable:
    """Await `read`; an answer other than a bad key (a 403 for a missing scope, a 400) becomes `Unreadable`,
    so one control the organization cannot read does not stop the whole run."""
    try:
        return await read
    except AuthError as exc:
        if exc.status == 401:
            raise
        return Unreadable(f"could not read {what}: {exc.message}")
    except ApiError as exc:
        return Unreadable(f"could not read {what}: {exc.message}")


def compare_spend_limit(project: str | None, want: SpendLimitSetting | None, observed: Any) -> list[Change]:
    """Pure: the change that makes the observed limit (`SpendLimit`, None, NOT_CREATED or `Unreadable`) of one
    scope (`project` None: the organization) equal to `want`."""
    if want is None:
        return []
    if isinstance(observed, Unreadable):
        return [
            Change(action="report", kind=KIND, order=ORDER, project=project, severity="high", reason=observed.reason)
        ]
    live: SpendLimit | None = None if observed is NOT_CREATED else observed
    if want == "none":
        if live is None:
            return []
        return [
            _change(
                "delete",
                project,
                {"threshold_amount": FieldChange(format_usd(live.threshold_amount), None)},
                "removes the hard spend limit: spend is no longer capped",
                None,
                weakens="removes the hard spend limit",
            )
        ]
    assert isinstance(want, DesiredSpendLimit)
    after = format_usd(want.cents)
    if live is None:
        reason = "set on the new project" if observed is NOT_CREATED else f"caps spend at {after} a month"
        # A cap where there was none stops requests once it is reached (not on a project still to be created).
        cut = None if observed is NOT_CREATED else f"requests are refused once spend reaches {after} in a month"
        capped = {"threshold_amount": FieldChange(None, after)}
        open_ = None if observed is NOT_CREATED else "no hard spend limit live: spend is not capped"
        return [_change("create", project, capped, reason, want.cents, disrupts=cut, exposes=open_)]
    fields: dict[str, FieldChange] = {}
    if live.threshold_amount != want.cents:
        fields["threshold_amount"] = FieldChange(format_usd(live.threshold_amount), after)
    # Values the API may add later (another currency or interval) are drift too: the POST sends USD/month.
    for name, value in (("currency", CURRENCY), ("interval", INTERVAL)):
        if getattr(live, name) != value:
            fields[name] = FieldChange(getattr(live, name), value)
    if not fields:
        return []
    weakens = disrupts = exposes = None
    if live.threshold_amount > want.cents:
        reason = "lowers the hard spend limit"
        was = format_usd(live.threshold_amount)
        disrupts = f"requests are refused once spend reaches {after} in a month (was {was})"
        exposes = f"the hard spend limit is {was} live, above the files' {after}"
    elif live.threshold_amount < want.cents:
        reason = "raises the hard spend limit"
        weakens = f"raises the hard spend limit ({format_usd(live.threshold_amount)} -> {after})"
    else:
        reason = "the limit's currency or interval differs from USD a month"
    return [_change("update", project, fields, reason, want.cents, weakens=weakens, disrupts=disrupts, exposes=exposes)]


def _change(
    action: str,
    project: str | None,
    fields: dict[str, FieldChange],
    reason: str,
    cents: int | None,
    *,
    weakens: str | None = None,
    disrupts: str | None = None,
    exposes: str | None = None,
) -> Change:
    return Change(
        action=action,  # type: ignore[arg-type]
        kind=KIND,
        project=project,
        fields=fields,
        reason=reason,
        order=ORDER,
        facts=LimitFacts(threshold_amount=cents),
        weakens=weakens,
        disrupts=disrupts,
        exposes=exposes,
    )


async def _apply(api: AdminApi, change: Change, project_id: str | None) -> None:
    if change.action == "delete":
        await api.spend.delete_limit(project_id=project_id)
    else:
        amount = required(change.facts_as(LimitFacts).threshold_amount, "threshold amount")
        await api.spend.set_limit(amount, project_id=project_id)


def export_spend_limit(observed: Any) -> dict[str, Any] | None:
    """`spend_limit: {amount_usd: N}` for a live limit; nothing when there is none (left unmanaged)."""
    if isinstance(observed, Unreadable):
        raise NotExportable(f"it could not be read: {observed.reason}")
    if not isinstance(observed, SpendLimit):
        return None
    if (observed.currency, observed.interval) != (CURRENCY, INTERVAL):
        raise NotExportable(f"it is in {observed.currency} a {observed.interval}; the files hold USD a month")
    return {"spend_limit": {"amount_usd": from_cents(observed.threshold_amount)}}


class OrganizationSpendLimit(OrganizationKind):
    name = KIND
    group = "limits"
    order = ORDER
    audit_event_types = ()
    exports = True

    def manages(self, desired: DesiredState) -> bool:
        return desired.organization.organization.spend_limit is not None

    def reads(self, desired: DesiredState) -> bool:
        """Read also when a project sets a limit: one above the organization's is reported."""
        return self.manages(desired) or any(
            isinstance(desired.effective(p).spend_limit, DesiredSpendLimit) for p in desired.projects
        )

    async def observe(self, api: AdminApi) -> SpendLimit | Unreadable | None:
        return await read_safely(api.spend.get_limit(), "the organization's hard spend limit")

    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        return compare_spend_limit(None, desired.organization.organization.spend_limit, observed)

    async def apply(self, api: AdminApi, change: Change) -> None:
        await _apply(api, change, None)

    def export(self, observed: Any) -> dict[str, Any] | None:
        return export_spend_limit(observed)


class ProjectSpendLimit(ProjectKind):
    name = KIND
    group = "limits"
    order = ORDER
    audit_event_types = ()
    exports = True

    def manages(self, project: DesiredProject) -> bool:
        return project.settings.spend_limit is not None

    async def observe(self, api: AdminApi, project: Project) -> SpendLimit | None:
        return await api.spend.get_limit(project_id=project.id)

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        want = project.settings.spend_limit
        changes = compare_spend_limit(project.name, want, observed)
        organization = _organization_limit(world)
        if isinstance(want, DesiredSpendLimit) and organization is not None and want.cents > organization:
            changes.append(
                Change(
                    action="report",
                    kind=KIND,
                    project=project.name,
                    severity="normal",
                    reason=(
                        f"the project's hard spend limit {format_usd(want.cents)} is above the organization's "
                        f"{format_usd(organization)}, which is reached first"
                    ),
                    order=ORDER,
                )
            )
        return changes

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        await _apply(api, change, project_id)

    def export(self, observed: Any) -> dict[str, Any] | None:
        return export_spend_limit(observed)


def _organization_limit(world: World) -> int | None:
    """The organization's limit in cents as it will be after this run: desired when managed, else live."""
    desired = world.desired.organization.organization.spend_limit
    if isinstance(desired, DesiredSpendLimit):
        return desired.cents
    if desired == "none":
        return None
    observed = world.organization.get(KIND)
    return observed.threshold_amount if isinstance(observed, SpendLimit) else None
