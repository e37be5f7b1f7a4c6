"""mTLS certificates: `organization_certificates` (uploaded, and active for the organization) and
`project_certificates` (active in one project).

A client that holds a key one of these certificates certifies is let in where the certificate is active, so
activating one admits more (critical: the ratchet holds it for a person) and deactivating one may cut
clients off (high). A certificate is matched by name; the API never changes a certificate's content, so a
file whose name is live is not uploaded again. Certificates are never deleted: an undeclared one that is
active for the organization is deactivated, an inactive one is left as it is.

`reconcile export` writes each named live certificate's PEM (public material, read with `include[]=content`,
one request each, only by export) to `certificates/<name>.pem` and its entry to `organization: certificates:`,
so that planning the written files is empty. When the API returns no PEM for one of them, the organization's
list is left out whole, with a note: exporting the others would make the plan deactivate that one. Unnamed
certificates are not exported: they cannot be declared, and the plan leaves them alone.

The organization's changes apply before the projects', so a certificate uploaded by a plan exists when a
project of the same plan activates it (its id is then found by name at apply time).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from datacontrols.adminapi.certificates import Certificate
from datacontrols.desired.certificates import PEM_BEGIN
from datacontrols.desired.schema import DesiredState
from datacontrols.errors import NotFound
from datacontrols.kinds.base import NOT_CREATED, DesiredProject, NotExportable, OrganizationKind, ProjectKind, World
from datacontrols.plan import OTHER_ID, Change, Facts, FieldChange, required

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.one_writer import Claim
    from datacontrols.adminapi.projects import Project

__all__ = ["CertificateFacts", "ExportedCertificates", "OrganizationCertificates", "ProjectCertificates", "pem_paths"]

ORDER = 19
_EVENTS = ("certificate.created", "certificate.updated", "certificate.deleted")
_TOGGLES = ("certificates.activated", "certificates.deactivated")


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateFacts(Facts):
    name: str
    certificate_id: str | None = field(default=None, metadata=OTHER_ID)  # None: uploaded by this apply
    pem: str | None = None  # what an upload sends: public material, read from the file the state names


@dataclass(frozen=True)
class ExportedCertificates:
    """What export read: the organization's certificates, and the file each named one's PEM was written to
    (certificate name -> path inside the desired-state directory); `problem`: why none can be exported."""

    certificates: tuple[Certificate, ...]
    files: Mapping[str, str] = field(default_factory=dict)
    problem: str | None = None


def pem_paths(names: Iterable[str]) -> dict[str, str]:
    """Certificate name -> `certificates/<stem>.pem`: the name with anything but letters, digits, `.`, `_`
    and `-` made `-`; two names of one stem (ignoring case) are numbered, in sorted order."""
    paths: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(names):
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60] or "certificate"
        stem, number = base, 1
        while stem.casefold() in taken:
            number += 1
            stem = f"{base}-{number}"
        taken.add(stem.casefold())
        paths[name] = f"certificates/{stem}.pem"
    return paths


def _public_pem(text: str | None) -> bool:
    return text is not None and PEM_BEGIN in text and "PRIVATE KEY" not in text


def _by_name(certificates: Any) -> dict[str, Certificate]:
    found: dict[str, Certificate] = {}
    for certificate in certificates if isinstance(certificates, list | tuple) else ():
        if certificate.name:
            found.setdefault(certificate.name, certificate)  # a second of one name is the API's; the first wins
    return found


def _toggle(kind: str, project: str | None, name: str, certificate: Certificate | None, active: bool) -> Change:
    where = "the organization" if project is None else project
    return Change(
        action="update",
        kind=kind,
        order=ORDER,
        project=project,
        subject=name,
        fields={"active": FieldChange(certificate.active if certificate else None, active)},
        reason=f"{'activate' if active else 'deactivate'} {name} for {where}",
        facts=CertificateFacts(name=name, certificate_id=certificate.id if certificate else None),
        weakens=f"clients holding a key {name} certifies are let in to {where}" if active else None,
        disrupts=None if active else f"clients presenting {name} are refused by {where}",
    )


async def _resolve(api: AdminApi, facts: CertificateFacts) -> str:
    if facts.certificate_id is not None:
        return facts.certificate_id
    found = [c.id for c in await api.certificates.organization() if c.name == facts.name]
    if not found:
        raise NotFound(f"no certificate named {facts.name!r} is uploaded")
    return found[0]


class OrganizationCertificates(OrganizationKind):
    name = "organization_certificates"
    group = "certificates"
    order = ORDER
    audit_event_types = (*_EVENTS, *_TOGGLES)
    exports = True

    def manages(self, desired: DesiredState) -> bool:
        return desired.organization.organization.certificates is not None

    async def observe(self, api: AdminApi) -> tuple[Certificate, ...]:
        return tuple(await api.certificates.organization())

    async def export_files(self, api: AdminApi, observed: Any) -> tuple[Any, Mapping[str, str]]:
        """Each named certificate's PEM, read for export only (the plan never needs the content)."""
        live = _by_name(observed)
        names = sorted(live)
        pems = await asyncio.gather(*(api.certificates.content(live[name].id) for name in names))
        certificates = tuple(observed) if isinstance(observed, list | tuple) else ()
        unreadable = [name for name, pem in zip(names, pems, strict=True) if not _public_pem(pem)]
        if unreadable:
            problem = f"the API returned no PEM certificate for {', '.join(unreadable)}; declare them by hand"
            return ExportedCertificates(certificates, problem=problem), {}
        paths = pem_paths(names)
        files = {paths[name]: pem for name, pem in zip(names, pems, strict=True) if pem is not None}
        return ExportedCertificates(certificates, paths), files

    def export(self, observed: Any) -> dict[str, Any] | None:
        """Each named certificate's entry, naming the PEM file `export_files` wrote; None without that read."""
        if not isinstance(observed, ExportedCertificates):
            return None
        if observed.problem is not None:
            raise NotExportable(observed.problem)
        entries: dict[str, Any] = {}
        for name, certificate in sorted(_by_name(observed.certificates).items()):
            entry: dict[str, Any] = {"file": observed.files[name]}
            if not certificate.active:
                entry["active"] = False
            entries[name] = entry
        return {"certificates": entries} if entries else None

    def compare(self, desired: DesiredState, observed: Any, world: World) -> list[Change]:
        wanted = desired.organization.organization.certificates
        if wanted is None:
            return []
        live = _by_name(observed)
        changes: list[Change] = []
        for name, setting in sorted(wanted.items()):
            certificate = live.get(name)
            if certificate is None:
                if name not in desired.certificates:
                    continue  # its file could not be read: the loader refused the state already
                changes.append(self._upload(name, setting.active, desired.certificates[name]))
            elif bool(certificate.active) != setting.active:
                changes.append(_toggle(self.name, None, name, certificate, setting.active))
        for name, certificate in sorted(live.items()):
            if name not in wanted and certificate.active:
                changes.append(_toggle(self.name, None, name, certificate, False))
        return changes

    def _upload(self, name: str, active: bool, pem: str) -> Change:
        return Change(
            action="create",
            kind=self.name,
            order=self.order,
            project=None,
            subject=name,
            fields={"active": FieldChange(None, active)},
            reason="declared and not uploaded" + (", then activated for the organization" if active else ""),
            facts=CertificateFacts(name=name, pem=pem),
            weakens=f"clients holding a key {name} certifies are let in to the organization" if active else None,
        )

    async def apply(self, api: AdminApi, change: Change) -> Claim[Certificate] | None:
        facts = change.facts_as(CertificateFacts)
        active = bool(change.fields["active"].after)
        if change.action == "create":
            claim = await api.certificates.upload_once(facts.name, required(facts.pem, f"PEM of {facts.name}"))
            if active:
                await api.certificates.toggle([claim.kept.id], active=True)
            return claim
        await api.certificates.toggle([await _resolve(api, facts)], active=active)
        return None


class ProjectCertificates(ProjectKind):
    name = "project_certificates"
    group = "certificates"
    order = ORDER
    audit_event_types = _TOGGLES
    exports = True

    def manages(self, project: DesiredProject) -> bool:
        return project.settings.certificates is not None

    async def observe(self, api: AdminApi, project: Project) -> tuple[Certificate, ...]:
        return tuple(await api.certificates.project(project.id))

    def export(self, observed: Any) -> dict[str, Any] | None:
        """The certificates active in the project; none active: left unmanaged (each plan would read it)."""
        active = sorted(name for name, c in _by_name(observed).items() if c.active)
        return {"certificates": active} if active else None

    def compare(self, project: DesiredProject, observed: Any, world: World) -> list[Change]:
        wanted = set(project.settings.certificates or ())
        live = {} if observed is NOT_CREATED else _by_name(observed)
        declared = world.desired.organization.organization.certificates or {}
        changes: list[Change] = []
        for name in sorted(wanted):
            certificate = live.get(name)
            if certificate is None and name not in declared:
                changes.append(
                    Change(
                        action="report",
                        kind=self.name,
                        order=self.order,
                        project=project.name,
                        subject=name,
                        severity="normal",
                        reason=f"no certificate named {name!r} is uploaded; declare it in organization.yaml",
                    )
                )
            elif certificate is None or not certificate.active:
                changes.append(_toggle(self.name, project.name, name, certificate, True))
        for name, certificate in sorted(live.items()):
            if name not in wanted and certificate.active:
                changes.append(_toggle(self.name, project.name, name, certificate, False))
        return changes

    async def apply(self, api: AdminApi, change: Change, project_id: str) -> None:
        facts = change.facts_as(CertificateFacts)
        certificate_id = await _resolve(api, facts)
        await api.certificates.toggle(
            [certificate_id], active=bool(change.fields["active"].after), project_id=project_id
        )
