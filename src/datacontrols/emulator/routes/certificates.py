"""mTLS certificates, for the organization and per project (REFERENCE.md section 19).

- Lists are style-A pages, `order` desc by default; the organization's says whether each is active for the
  organization, a project's whether it is active in that project (every certificate is listed).
- Upload: `certificate` (PEM, required) and `name`; not activated; at most 50 per organization; content that
  is not a PEM certificate, or that holds a private key, is a 400. Content is immutable: modify renames.
- Get answers `certificate_details.content` only with `include[]=content`.
- Delete: only when inactive for the organization and every project; `{object: certificate.deleted, id}`.
- Activate/deactivate: 1..10 ids, atomic (an unknown id changes nothing: 404) and idempotent.
Audit events: certificate.created/updated/deleted (the deleted one carries the PEM), certificates.activated/
deactivated.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.paging import page_a
from datacontrols.emulator.routing import ApiRoute, Call
from datacontrols.emulator.state import CertificateRecord

__all__ = ["ROUTES", "looks_like_certificate"]

ORG = "/organization/certificates"
ONE = "/organization/certificates/{certificate_id}"
PROJECT = "/organization/projects/{project_id}/certificates"
MAX_CERTIFICATES: Final = 50
_YEAR: Final = 365 * 24 * 3600


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Upload(_Strict):
    certificate: str
    name: str | None = None


class _Modify(_Strict):
    name: str | None = None


class _Toggle(_Strict):
    certificate_ids: list[str] = Field(min_length=1, max_length=10)


def looks_like_certificate(pem: str) -> bool:
    """Public certificate material, and nothing secret beside it."""
    return "-----BEGIN CERTIFICATE-----" in pem and "PRIVATE KEY" not in pem


def _object(
    record: CertificateRecord, kind: str, *, active: bool | None = None, content: bool = False
) -> dict[str, Any]:
    details: dict[str, Any] = {"valid_at": record.valid_at, "expires_at": record.expires_at}
    if content:
        details["content"] = record.content
    answer: dict[str, Any] = {
        "object": kind,
        "id": record.id,
        "name": record.name,
        "created_at": record.created_at,
        "certificate_details": details,
    }
    if active is not None:
        answer["active"] = active
    return answer


def _ordered(call: Call) -> list[CertificateRecord]:
    order = call.query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ApiFailure.bad_request("Invalid 'order': must be 'asc' or 'desc'.", param="order", code="invalid_value")
    records = list(call.state.certificates.values())
    return list(reversed(records)) if order == "desc" else records


def list_organization(call: Call) -> dict[str, Any]:
    return page_a(
        call, _ordered(call), lambda r: _object(r, "organization.certificate", active=r.active), lambda r: r.id
    )


def list_project(call: Call) -> dict[str, Any]:
    project = call.project()
    return page_a(
        call,
        _ordered(call),
        lambda r: _object(r, "organization.project.certificate", active=project.id in r.projects),
        lambda r: r.id,
    )


def upload(call: Call) -> dict[str, Any]:
    body = call.body(_Upload)
    if not looks_like_certificate(body.certificate):
        raise ApiFailure.bad_request("The certificate must be a PEM certificate.", param="certificate")
    if len(call.state.certificates) >= MAX_CERTIFICATES:
        raise ApiFailure.bad_request(f"An organization can have at most {MAX_CERTIFICATES} certificates.")
    record = CertificateRecord(
        id=call.ids.unused("cert_", call.state.certificates),
        name=body.name,
        content=body.certificate,
        created_at=call.now,
        valid_at=call.now,
        expires_at=call.now + _YEAR,
    )
    call.state.certificates[record.id] = record
    call.record_event("certificate.created", project_id=None, details={"id": record.id, "name": record.name})
    return _object(record, "certificate")


def _record(call: Call) -> CertificateRecord:
    return call.lookup(call.state.certificates, "certificate_id", "certificate")


def retrieve(call: Call) -> dict[str, Any]:
    return _object(_record(call), "certificate", content="content" in call.list_query("include[]"))


def modify(call: Call) -> dict[str, Any]:
    record = _record(call)
    body = call.body(_Modify)
    if body.name is not None:
        record.name = body.name
    call.record_event("certificate.updated", project_id=None, details={"id": record.id, "name": record.name})
    return _object(record, "certificate")


def delete(call: Call) -> dict[str, Any]:
    record = _record(call)
    if record.active or record.projects:
        raise ApiFailure.bad_request("Deactivate the certificate for the organization and every project first.")
    del call.state.certificates[record.id]
    call.record_event("certificate.deleted", project_id=None, details={"id": record.id, "certificate": record.content})
    return {"object": "certificate.deleted", "id": record.id}


def _toggled(call: Call, *, active: bool, project_id: str | None) -> list[CertificateRecord]:
    body = call.body(_Toggle)
    missing = [i for i in body.certificate_ids if i not in call.state.certificates]
    if missing:  # atomic: nothing changes
        raise ApiFailure.not_found(f"No certificate with id '{missing[0]}'.", param="certificate_ids")
    records = [call.state.certificates[i] for i in dict.fromkeys(body.certificate_ids)]
    for record in records:
        if project_id is None:
            record.active = active
        elif active:
            record.projects.add(project_id)
        else:
            record.projects.discard(project_id)
    event = "certificates.activated" if active else "certificates.deactivated"
    call.record_event(event, project_id=project_id, details={"certificate_ids": [r.id for r in records]})
    return records


def _organization_toggle(active: bool) -> Any:
    def handler(call: Call) -> dict[str, Any]:
        records = _toggled(call, active=active, project_id=None)
        kind = "organization.certificate.activation" if active else "organization.certificate.deactivation"
        return {"object": kind, "data": [_object(r, "organization.certificate", active=r.active) for r in records]}

    return handler


def _project_toggle(active: bool) -> Any:
    def handler(call: Call) -> dict[str, Any]:
        project = call.writable_project()
        records = _toggled(call, active=active, project_id=project.id)
        kind = "organization.project.certificate." + ("activation" if active else "deactivation")
        data = [_object(r, "organization.project.certificate", active=project.id in r.projects) for r in records]
        return {"object": kind, "data": data}

    return handler


ROUTES = (
    ApiRoute("GET", ORG, list_organization),
    ApiRoute("POST", ORG, upload),
    ApiRoute("POST", ORG + "/activate", _organization_toggle(True)),
    ApiRoute("POST", ORG + "/deactivate", _organization_toggle(False)),
    ApiRoute("GET", ONE, retrieve),
    ApiRoute("POST", ONE, modify),
    ApiRoute("DELETE", ONE, delete),
    ApiRoute("GET", PROJECT, list_project),
    ApiRoute("POST", PROJECT + "/activate", _project_toggle(True)),
    ApiRoute("POST", PROJECT + "/deactivate", _project_toggle(False)),
)
