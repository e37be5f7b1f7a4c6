"""The seed and dump format of mTLS certificates (routes/certificates.py); `seed.py` puts it on its documents:

certificates:
  - id: cert_...                        # optional: generated when absent
    name: gateway
    content: "-----BEGIN CERTIFICATE-----\\n...\\n-----END CERTIFICATE-----\\n"   # its validity is read from it
    active: true                        # at the organization level; default false
    projects: [Support Bot]             # the projects it is active in, by id or name
    created_at: 1735689600              # optional: the emulator clock when absent
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from datacontrols.emulator.pem import certificate_validity
from datacontrols.emulator.routes.certificates import MAX_CERTIFICATES
from datacontrols.emulator.state import CertificateRecord, EmulatorState, IdFactory

__all__ = ["SeedCertificate", "certificates_from_seed", "check_certificates", "dump_certificates"]


class SeedCertificate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: str | None = None
    name: str | None = None
    content: str
    active: bool = False
    projects: list[str] = Field(default_factory=list)
    created_at: int | None = None

    @field_validator("content")
    @classmethod
    def _one_certificate(cls, content: str) -> str:
        certificate_validity(content)  # its ValueError says what is wrong
        return content


def check_certificates(document: Any) -> None:
    if len(document.certificates) > MAX_CERTIFICATES:
        raise ValueError(f"at most {MAX_CERTIFICATES} certificates")
    for entry in document.certificates:
        for ref in entry.projects:
            if not [p for p in document.projects if ref in (p.id, p.name)]:
                raise ValueError(f"certificate {entry.name or entry.id!r}: no project {ref!r}")


def certificates_from_seed(document: Any, state: EmulatorState, ids: IdFactory, now: int) -> None:
    """Fill `state.certificates` (projects already built)."""
    taken = {entry.id for entry in document.certificates if entry.id is not None}
    for entry in document.certificates:
        certificate_id = entry.id if entry.id is not None else ids.unused("cert_", taken)
        taken.add(certificate_id)
        valid_at, expires_at = certificate_validity(entry.content)
        projects = [next(p.id for p in state.projects.values() if ref in (p.id, p.name)) for ref in entry.projects]
        state.certificates[certificate_id] = CertificateRecord(
            id=certificate_id,
            content=entry.content,
            valid_at=valid_at,
            expires_at=expires_at,
            name=entry.name,
            created_at=entry.created_at if entry.created_at is not None else now,
            active=entry.active,
            project_ids=list(dict.fromkeys(projects)),
        )


def dump_certificates(state: EmulatorState) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "name": c.name,
            "content": c.content,
            "active": c.active,
            "projects": list(c.project_ids),
            "created_at": c.created_at,
        }
        for c in state.certificates.values()
    ]
