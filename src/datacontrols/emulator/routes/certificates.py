"""mTLS client certificates: uploaded to the organization, activated for it or for single projects.

- Upload takes `certificate` (PEM, required) and an optional `name`; it is not activated. The PEM must hold
  one X.509 certificate (else 400); its validity (`certificate_details.valid_at`, `expires_at`) is read from
  it (pem.py), and no signature is checked. An organization holds at most 50 certificates (the spec's
  number; the 51st answers 400).
- Retrieve answers `object: certificate` without `active`; `include[]=content` (or `include=content`, the
  spec's name for the parameter) adds the PEM. Modify changes the name only. Delete answers
  `certificate.deleted` (with `id`, no `deleted`, as the spec has it) and is refused (400) while the
  certificate is active for the organization or any project, as the spec says.
- Lists (style A, `limit` 1..100 default 20, `order` by upload time, `desc` by default) answer every uploaded
  certificate with `active` for the organization, or for the project. Activate and deactivate take 1..10
  `certificate_ids` and are atomic (an unknown id changes nothing: 404) and idempotent.
- Project writes on an archived project are refused (400), as for every family.

Audit events, with the spec's payloads: `certificate.created`, `certificate.updated`, `certificate.deleted`
(the PEM included), `certificates.activated`, `certificates.deactivated`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.paging import in_order, page_a
from datacontrols.emulator.pem import certificate_validity
from datacontrols.emulator.routing import ApiRoute, Call
from datacontrols.emulator.state import CertificateRecord

__all__ = ["MAX_CERTIFICATES", "ROUTES"]

CERTIFICATES = "/organization/certificates"
CERTIFICATE = "/organization/certificates/{certificate_id}"
ACTIVATE = "/organization/certificates/activate"
DEACTIVATE = "/organization/certificates/deactivate"
PROJECT_CERTIFICATES = "/organization/projects/{project_id}/certificates"
PROJECT_ACTIVATE = "/organization/projects/{project_id}/certificates/activate"
PROJECT_DEACTIVATE = "/organization/projects/{project_id}/certificates/deactivate"
MAX_CERTIFICATES = 50  # "Organizations can upload up to 50 certificates."


class _UploadBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    certificate: str
    name: str | None = None


class _ModifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str | None = None


class _ToggleBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    certificate_ids: list[str] = Field(min_length=1, max_length=10)


def _details(record: CertificateRecord, *, content: bool = False) -> dict[str, Any]:
    details: dict[str, Any] = {"valid_at": record.valid_at, "expires_at": record.expires_at}
    if content:
        details["content"] = record.content
    return details


def _certificate(record: CertificateRecord, *, content: bool = False) -> dict[str, Any]:
    """The spec's `Certificate`, as upload, retrieve and modify answer it (no `active`)."""
    return {
        "object": "certificate",
        "id": record.id,
        "name": record.name,
        "created_at": record.created_at,
        "certificate_details": _details(record, content=content),
    }


def _listed(record: CertificateRecord, project_id: str | None) -> dict[str, Any]:
    """`OrganizationCertificate`, or `OrganizationProjectCertificate` with the project's `active`."""
    return {
        "object": "organization.certificate" if project_id is None else "organization.project.certificate",
        "id": record.id,
        "name": record.name,
        "created_at": record.created_at,
        "certificate_details": _details(record),
        "active": record.active if project_id is None else project_id in record.project_ids,
    }


def _record(call: Call) -> CertificateRecord:
    return call.lookup(call.state.certificates, "certificate_id", "certificate")


def _brief(record: CertificateRecord) -> dict[str, Any]:
    return {"id": record.id, "name": record.name}


def upload(call: Call) -> dict[str, Any]:
    body = call.body(_UploadBody)
    if len(call.state.certificates) >= MAX_CERTIFICATES:
        raise ApiFailure.bad_request(
            f"An organization can hold at most {MAX_CERTIFICATES} certificates; delete one first.",
            param="certificate",
            code="certificate_limit_reached",
        )
    try:
        valid_at, expires_at = certificate_validity(body.certificate)
    except ValueError as problem:
        raise ApiFailure.bad_request(
            f"Invalid 'certificate': {problem}.", param="certificate", code="invalid_value"
        ) from None
    record = CertificateRecord(
        id=call.ids.unused("cert_", call.state.certificates),
        content=body.certificate,
        valid_at=valid_at,
        expires_at=expires_at,
        name=body.name,
        created_at=call.now,
    )
    call.state.certificates[record.id] = record
    call.record_event("certificate.created", project_id=None, details=_brief(record))
    return _certificate(record)


def retrieve(call: Call) -> dict[str, Any]:
    record = _record(call)
    include = [*call.list_query("include"), *call.list_query("include[]")]
    for value in include:
        if value != "content":
            raise ApiFailure.bad_request("Invalid 'include': only 'content' is supported.", param="include")
    return _certificate(record, content="content" in include)


def modify(call: Call) -> dict[str, Any]:
    record = _record(call)
    body = call.body(_ModifyBody)
    if body.name is not None:
        record.name = body.name
        call.record_event("certificate.updated", project_id=None, details=_brief(record))
    return _certificate(record)


def delete(call: Call) -> dict[str, Any]:
    record = _record(call)
    if record.active or record.project_ids:
        raise ApiFailure.bad_request(
            "A certificate must be inactive for the organization and every project before it is deleted.",
            param="certificate_id",
            code="certificate_active",
        )
    del call.state.certificates[record.id]
    details = {**_brief(record), "certificate": record.content}
    call.record_event("certificate.deleted", project_id=None, details=details)
    return {"object": "certificate.deleted", "id": record.id}


def list_certificates(call: Call) -> dict[str, Any]:
    project_id = call.project().id if "project_id" in call.params else None
    records = in_order(call, list(call.state.certificates.values()), default="desc")
    return page_a(call, records, lambda r: _listed(r, project_id), lambda r: r.id)


def _toggle(call: Call, *, active: bool) -> dict[str, Any]:
    project_id = call.writable_project().id if "project_id" in call.params else None
    wanted = list(dict.fromkeys(call.body(_ToggleBody).certificate_ids))
    unknown = [cid for cid in wanted if cid not in call.state.certificates]
    if unknown:  # atomic: nothing changes unless every id is known
        raise ApiFailure.not_found(f"No certificate with id '{unknown[0]}'.", param="certificate_ids")
    records = [call.state.certificates[cid] for cid in wanted]
    for record in records:
        if project_id is None:
            record.active = active
        elif active and project_id not in record.project_ids:
            record.project_ids.append(project_id)
        elif not active and project_id in record.project_ids:
            record.project_ids.remove(project_id)
    event = "certificates.activated" if active else "certificates.deactivated"
    call.record_event(event, project_id=project_id, details={"certificates": [_brief(r) for r in records]})
    prefix = "organization.certificate" if project_id is None else "organization.project.certificate"
    kind = "activation" if active else "deactivation"
    return {"object": f"{prefix}.{kind}", "data": [_listed(r, project_id) for r in records]}


def activate(call: Call) -> dict[str, Any]:
    return _toggle(call, active=True)


def deactivate(call: Call) -> dict[str, Any]:
    return _toggle(call, active=False)


ROUTES = (
    ApiRoute("GET", CERTIFICATES, list_certificates),
    ApiRoute("POST", CERTIFICATES, upload),
    # Before `{certificate_id}`: the route table answers the first template that matches.
    ApiRoute("POST", ACTIVATE, activate),
    ApiRoute("POST", DEACTIVATE, deactivate),
    ApiRoute("GET", CERTIFICATE, retrieve),
    ApiRoute("POST", CERTIFICATE, modify),
    ApiRoute("DELETE", CERTIFICATE, delete),
    ApiRoute("GET", PROJECT_CERTIFICATES, list_certificates),
    ApiRoute("POST", PROJECT_ACTIVATE, activate),
    ApiRoute("POST", PROJECT_DEACTIVATE, deactivate),
)
