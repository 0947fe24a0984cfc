"""Signed digest files: what a digest holds, the bytes it signs, and taking one apart.

A digest file is one line of JSON, ``<unsigned content minus its closing brace>,
"signature":"<hex>"}\\n``, where the unsigned content is the orjson serialisation of every other
member. The signature covers CloudTrail's signing string, with our names::

    <digestEndTime>\\n<digests/NNNNNNNNNN.json>\\n<hex SHA-256(unsigned content)>\\n
    <previousDigestSignature, or "null" in the first digest>

(UTF-8, four fields joined by single newlines, no newline at the end). docs/audit.md says more.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from strongroom.audit.format import DIGESTS
from strongroom.crypto.trail_signature import fingerprint

__all__ = [
    "DigestError",
    "PreviousDigest",
    "Signer",
    "SplitDigest",
    "digest_fields",
    "seal_digest",
    "signing_string",
    "split_digest",
]

_SIGNATURE = b',"signature":"'
_END = b'"}\n'


class Signer(Protocol):
    """The audit signing key, as the key store lends it: signs, never shows its private half."""

    @property
    def algorithm(self) -> str:
        """``"Ed25519"`` or ``"SHA384withECDSA"``."""
        ...

    def sign(self, data: bytes) -> bytes: ...

    def public_key_der(self) -> bytes:
        """The DER SubjectPublicKeyInfo of the signing key."""
        ...


class DigestError(ValueError):
    """A file that is not a digest (the message says what is wrong)."""


def signing_string(
    end_time: str, name: str, unsigned: bytes, previous_signature: str | None
) -> bytes:
    """The bytes a digest's signature covers (see the module docstring)."""
    content_hash = hashlib.sha256(unsigned).hexdigest()
    previous = previous_signature if previous_signature is not None else "null"
    return f"{end_time}\n{DIGESTS}/{name}\n{content_hash}\n{previous}".encode()


def seal_digest(fields: dict[str, Any], name: str, signer: Signer) -> bytes:
    """The file bytes of a digest: ``fields`` (which hold ``digestEndTime`` and
    ``previousDigestSignature``) serialised, then signed."""
    unsigned = orjson.dumps(fields)
    data = signing_string(
        fields["digestEndTime"], name, unsigned, fields["previousDigestSignature"]
    )
    signature = signer.sign(data).hex().encode()
    return unsigned[:-1] + _SIGNATURE + signature + _END


@dataclass(frozen=True, slots=True)
class SplitDigest:
    fields: dict[str, Any]  # every member but the signature
    unsigned: bytes
    signature: bytes


def split_digest(data: bytes) -> SplitDigest:
    """A digest file's members, unsigned bytes and signature, cut from the file's own bytes."""
    cut = data.rfind(_SIGNATURE)
    if cut < 0 or not data.endswith(_END):
        raise DigestError("the file does not end with a signature")
    try:
        signature = bytes.fromhex(data[cut + len(_SIGNATURE) : -len(_END)].decode("ascii"))
        unsigned = data[:cut] + b"}"
        fields = orjson.loads(unsigned)
    except (ValueError, UnicodeDecodeError):
        raise DigestError("the file is not a digest's JSON") from None
    if not isinstance(fields, dict) or "digestEndTime" not in fields:
        raise DigestError("the file is not a digest's JSON")
    return SplitDigest(fields, unsigned, signature)


@dataclass(frozen=True, slots=True)
class PreviousDigest:
    """The digest a new one chains on: its name, members, SHA-256 and signature (hex)."""

    name: str
    fields: dict[str, Any]
    sha256: str
    signature: str

    @classmethod
    def of(cls, name: str, data: bytes) -> PreviousDigest:
        split = split_digest(data)
        return cls(name, split.fields, hashlib.sha256(data).hexdigest(), split.signature.hex())

    def covered(self) -> dict[str, dict[str, Any]]:
        """What it said of each segment, by segment name."""
        return {entry["name"]: entry for entry in self.fields.get("segments") or []}


def digest_fields(
    previous: PreviousDigest | None,
    *,
    start: str,
    end: str,
    segments: list[dict[str, Any]],
    last_seq: int,
    last_hash: bytes,
    signer: Signer,
) -> dict[str, Any]:
    """The members of a digest, in their order (docs/audit.md, "Digests"); ``start`` is used
    only for the first digest (the others start where the previous one ended)."""
    return {
        "digestStartTime": previous.fields["digestEndTime"] if previous else start,
        "digestEndTime": end,
        "segments": segments,
        "lastSeq": last_seq,
        "lastHash": last_hash.hex() if last_seq else None,
        "previousDigestFile": previous.name if previous else None,
        "previousDigestSha256": previous.sha256 if previous else None,
        "previousDigestSignature": previous.signature if previous else None,
        "publicKeyFingerprint": fingerprint(signer.public_key_der()),
        "signatureAlgorithm": signer.algorithm,
    }
