"""The desired-state format of mTLS certificates: which are uploaded, and where each is active.

    organization:                                   # organization.yaml
      certificates:
        corp-ca: {file: certificates/corp-ca.pem}   # uploaded, active for the whole organization
        partner: {file: certificates/partner.pem, active: false}   # uploaded, active only where listed
    certificates: [partner]                         # a project file (or project_defaults): active here

`file` is a path inside the desired-state directory to public PEM material (`-----BEGIN CERTIFICATE-----`);
a file holding a private key is refused, so a key committed by mistake never leaves the repository. A
certificate is matched by name: the API's content is immutable, so a new certificate takes a new name.
The loader reads the files (`read_certificates`); the models only hold the paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Final

from pydantic import Field, field_validator

from datacontrols.desired.model import DesiredModel, Text
from datacontrols.desired.reading import FileProblem, Position, read_text

__all__ = [
    "CERTIFICATES_DESCRIPTION",
    "PROJECT_CERTIFICATES_DESCRIPTION",
    "CertificateSetting",
    "ProjectCertificates",
    "read_certificates",
]

PEM_BEGIN: Final = "-----BEGIN CERTIFICATE-----"


class CertificateSetting(DesiredModel):
    file: Text = Field(description="Path of the PEM file, relative to the desired-state directory")
    active: bool = Field(default=True, description="Active for the whole organization (else only where listed)")

    @field_validator("file")
    @classmethod
    def _relative(cls, value: str) -> str:
        path = PurePosixPath(value)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError("a path inside the desired-state directory, relative to it (no leading / or ..)")
        return value


ProjectCertificates = list[Text]

CERTIFICATES_DESCRIPTION: Final = (
    "mTLS certificates by name: {<name>: {file: <PEM path inside desired_state/>, active: true|false}}; "
    "uploaded when missing, activated or deactivated for the organization; absent = not managed"
)
PROJECT_CERTIFICATES_DESCRIPTION: Final = (
    "The certificates (by name) active in this project; [] = none; the others are deactivated here"
)


def read_certificates(
    root: Path,
    certificates: Mapping[str, CertificateSetting],
    position: Callable[[str], Position],
    problem: Callable[[str, Position], None],
) -> dict[str, str]:
    """Each declared certificate's PEM, read from its file; every problem reported at the `file` value."""
    pems: dict[str, str] = {}
    for name, setting in certificates.items():
        found: list[FileProblem] = []
        text = read_text(root / setting.file, found, root=root)
        where = position(name)
        if found:
            problem(f"{setting.file}: {found[0].message}", where)
        elif text is not None and "PRIVATE KEY" in text:
            problem(
                f"{setting.file} holds a private key; only the public certificate belongs here (remove the key)", where
            )
        elif text is not None and PEM_BEGIN not in text:
            problem(f"{setting.file} is not a PEM certificate (no {PEM_BEGIN} line)", where)
        elif text is not None:
            pems[name] = text
    return pems
