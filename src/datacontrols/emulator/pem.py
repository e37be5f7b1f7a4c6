"""The validity period of an X.509 certificate in PEM, read with a few lines of DER instead of a crypto library.

The emulator needs only `notBefore` and `notAfter` (the spec's `certificate_details.valid_at` and `expires_at`);
it never checks a signature or a chain, so a structurally sound certificate is enough. Anything that is not
one PEM `CERTIFICATE` block holding such a structure raises `ValueError`.

    Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
    TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity, ... }
    Validity ::= SEQUENCE { notBefore Time, notAfter Time }     -- UTCTime or GeneralizedTime
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime

__all__ = ["certificate_validity"]

_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----\s*(?P<body>[A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----")
_SEQUENCE, _CONTEXT_0, _UTC_TIME, _GENERALIZED_TIME = 0x30, 0xA0, 0x17, 0x18


def certificate_validity(pem: str) -> tuple[int, int]:
    """(valid_at, expires_at) in Unix seconds, from the one certificate in `pem`."""
    blocks = _BLOCK.findall(pem)
    if len(blocks) != 1:
        raise ValueError("expected exactly one PEM CERTIFICATE block")
    try:
        der = base64.b64decode("".join(blocks[0].split()), validate=True)
    except binascii.Error:
        raise ValueError("the PEM block is not base64") from None
    try:
        certificate = _children(_value(der, 0, _SEQUENCE))
        fields = _children(_value(certificate[0], 0, _SEQUENCE))
        if fields and fields[0][0] == _CONTEXT_0:
            fields = fields[1:]  # the explicit version
        validity = _children(_value(fields[3], 0, _SEQUENCE))
        return _time(validity[0]), _time(validity[1])
    except (IndexError, ValueError):
        raise ValueError("not an X.509 certificate") from None


def _header(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the element at `offset`."""
    tag, length, position = data[offset], data[offset + 1], offset + 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4:
            raise ValueError("unsupported length")
        length = int.from_bytes(data[position : position + count], "big")
        position += count
    if position + length > len(data):
        raise ValueError("truncated")
    return tag, position, position + length


def _value(data: bytes, offset: int, tag: int) -> bytes:
    found, start, end = _header(data, offset)
    if found != tag:
        raise ValueError(f"expected tag {tag:#x}, found {found:#x}")
    return data[start:end]


def _children(data: bytes) -> list[bytes]:
    """Each element inside a constructed value, header included."""
    items, offset = [], 0
    while offset < len(data):
        _, _, end = _header(data, offset)
        items.append(data[offset:end])
        offset = end
    return items


def _time(element: bytes) -> int:
    tag, start, end = _header(element, 0)
    text = element[start:end].decode("ascii")
    if tag == _UTC_TIME:  # RFC 5280: two-digit years 50..99 are 19xx, 00..49 are 20xx (not %y's 69 pivot)
        century = "19" if int(text[:2]) >= 50 else "20"
        moment = datetime.strptime(century + text, "%Y%m%d%H%M%SZ")
    elif tag == _GENERALIZED_TIME:
        moment = datetime.strptime(text, "%Y%m%d%H%M%SZ")
    else:
        raise ValueError("not a time")
    return int(moment.replace(tzinfo=UTC).timestamp())
