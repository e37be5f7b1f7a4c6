"""mTLS client certificates (`/organization/certificates` and per project): which are active where.

A certificate is uploaded once for the organization (public PEM material; at most 50) and is not active
until activated: for the whole organization, or project by project. Its content is immutable (only the
name can change), so a new certificate is a new upload. Activation and deactivation take up to 10 ids per
call and are atomic and idempotent. Both lists are style-A pages, newest first by default; a project's
list says, for each certificate, whether it is active in that project.

An upload goes through `one_writer.create_once` by name, so two appliers racing leave one certificate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.one_writer import Claim, create_once, oldest
from datacontrols.adminapi.transport import route
from datacontrols.errors import NotFound

__all__ = ["MAX_TOGGLE", "Certificate", "CertificateDetails", "Certificates"]

ORG_PATH = "/organization/certificates"
ONE_PATH = "/organization/certificates/{certificate_id}"
PROJECT_PATH = "/organization/projects/{project_id}/certificates"
# The spec's own paths, one per action (each is its own endpoint for the rate budget).
ORG_TOGGLE = {True: "/organization/certificates/activate", False: "/organization/certificates/deactivate"}
PROJECT_TOGGLE = {True: PROJECT_PATH + "/activate", False: PROJECT_PATH + "/deactivate"}
MAX_TOGGLE: Final = 10  # ToggleCertificatesRequest.certificate_ids: 1..10


class CertificateDetails(ApiModel):
    valid_at: int | None = None
    expires_at: int | None = None
    content: str | None = None  # the PEM, only in a retrieve with `include[]=content`


class Certificate(ApiModel):
    id: str
    object: str = "certificate"  # three values, by endpoint (REFERENCE.md section 19): not checked
    name: str | None = None
    created_at: int = 0
    certificate_details: CertificateDetails = CertificateDetails()
    active: bool | None = None  # in lists only: at the organization's, or the project's, level


class Certificates(Family):
    async def organization(self) -> list[Certificate]:
        where = route(ORG_PATH)
        return [parse(Certificate, item, where) async for item in self._t.paginate(where)]

    async def project(self, project_id: str) -> list[Certificate]:
        where = route(PROJECT_PATH, project_id=project_id)
        return [parse(Certificate, item, where) async for item in self._t.paginate(where)]

    async def content(self, certificate_id: str) -> str | None:
        """The certificate's PEM (public material), asked for with `include[]=content`; None when it is gone
        or the answer holds none. One request per certificate: only `reconcile export` needs it."""
        where = route(ONE_PATH, certificate_id=certificate_id)
        try:
            data = await self._t.get(where, params={"include[]": "content"})
        except NotFound:
            return None
        return parse(Certificate, data, where).certificate_details.content

    async def upload_once(self, name: str, pem: str) -> Claim[Certificate]:
        """Upload unless a certificate of this name exists (see `one_writer`); not activated."""
        where = route(ORG_PATH)

        async def namesakes() -> list[Certificate]:
            return [c for c in await self.organization() if c.name == name]

        async def upload() -> Certificate:
            return parse(
                Certificate, await self._t.write("POST", where, body={"name": name, "certificate": pem}), where
            )

        async def discard(certificate: Certificate) -> None:
            await self._t.write("DELETE", route(ONE_PATH, certificate_id=certificate.id))

        return await create_once(find=namesakes, create=upload, discard=discard, settle=self._t.pause, keep=oldest)

    async def toggle(self, ids: Sequence[str], *, active: bool, project_id: str | None = None) -> None:
        """Activate or deactivate, for the organization or one project, in calls of at most 10 ids."""
        where = (
            route(ORG_TOGGLE[active]) if project_id is None else route(PROJECT_TOGGLE[active], project_id=project_id)
        )

        async def resend() -> None:
            return None  # idempotent by the spec: after an unknown outcome, sending again is the re-check

        unique = sorted(set(ids))
        for start in range(0, len(unique), MAX_TOGGLE):
            chunk = unique[start : start + MAX_TOGGLE]
            await self._t.write("POST", where, body={"certificate_ids": chunk}, recheck=resend)
