"""Strongroom's symmetric ciphertext blob, format version 1.

Encrypt, GenerateDataKey and ReEncrypt hand these blobs to clients; Decrypt gets them back with no
KeyId and must find the key and the key-material version from the blob alone, so the header names
both in the clear. Every blob is sealed under a one-time key derived from the key material and a
random nonce, which lifts the 2^32-messages limit of random GCM IVs under one key.

Layout (byte by byte in ``docs/ciphertext-format.md``)::

    0      1   format version (0x01)
    1      1   L = length of the key id (1..255)
    2      L   key id, ASCII (UUID or "mrk-" + 32 hex)
    2+L    32  key material id
    34+L   32  derivation nonce N
    66+L   12  AES-GCM IV
    78+L   n   AES-256-GCM ciphertext
    78+L+n 16  GCM tag

``K = HKDF-SHA256(ikm=material, salt=N, info=b"strongroom/v1/symmetric-default", length=32)`` and
``AAD = header || canonical_context(context)``. Every failure to open, whatever the cause, is the
same bare :class:`~strongroom.errors.InvalidCiphertextException`.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.crypto.encryption_context import canonical_context
from strongroom.crypto.hmac_sha256 import hmac_sha256
from strongroom.errors import InvalidCiphertextException

__all__ = ["FORMAT_VERSION", "Header", "open_blob", "peek", "seal"]

FORMAT_VERSION: int = 1

MATERIAL_SIZE = 32
MATERIAL_ID_SIZE = 32
NONCE_SIZE = 32
IV_SIZE = 12
TAG_SIZE = 16
KDF_INFO = b"strongroom/v1/symmetric-default"
_KDF_BLOCK = KDF_INFO + b"\x01"  # HKDF-Expand's T(1) input: info || 0x01

_FIXED_HEADER = 2 + MATERIAL_ID_SIZE + NONCE_SIZE + IV_SIZE  # 78: everything but the key id
_VERSION_BYTE = bytes([FORMAT_VERSION])
_KEY_ID = re.compile(
    rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}"
)


@dataclass(frozen=True, slots=True)
class Header:
    """The clear part of a blob: enough to find the key and the material that sealed it."""

    version: int
    key_id: str
    material_id: bytes


def _derive_key(material: bytes, nonce: bytes) -> bytes:
    """HKDF-SHA256 (RFC 5869) of ``material`` with salt ``nonce`` and info ``KDF_INFO``, 32
    bytes: one block, so extract and expand are one HMAC each (the test vectors hold it to
    ``cryptography``'s HKDF)."""
    prk = hmac_sha256(nonce, material)
    return hmac_sha256(prk, _KDF_BLOCK)


@functools.lru_cache(maxsize=4096)  # a key seals many blobs; an id that fails is not kept
def _encode_key_id(key_id: str) -> bytes:
    raw = key_id.encode("ascii", errors="replace")
    if _KEY_ID.fullmatch(raw) is None:
        raise ValueError("key id must be a lower-case key UUID or mrk- id, not an ARN or alias")
    return raw


def _seal_with(  # noqa: PLR0917 -- positional, in the blob's field order, for test vectors
    material: bytes,
    key_id: str,
    material_id: bytes,
    nonce: bytes,
    iv: bytes,
    plaintext: bytes,
    context: Mapping[str, str] | None,
) -> bytes:
    """Seal with caller-chosen nonce and IV. Only for test vectors: never reuse a nonce/IV pair."""
    if len(material) != MATERIAL_SIZE:
        raise ValueError("key material must be 32 bytes")
    if len(material_id) != MATERIAL_ID_SIZE:
        raise ValueError("material id must be 32 bytes")
    if len(nonce) != NONCE_SIZE or len(iv) != IV_SIZE:
        raise ValueError("nonce must be 32 bytes and IV 12 bytes")
    raw_id = _encode_key_id(key_id)
    header = b"".join((_VERSION_BYTE, bytes([len(raw_id)]), raw_id, material_id, nonce, iv))
    aad = header + canonical_context(context)
    sealed = AESGCM(_derive_key(material, nonce)).encrypt(iv, plaintext, aad)
    return header + sealed


def seal(
    material: bytes,
    key_id: str,
    material_id: bytes,
    plaintext: bytes,
    context: Mapping[str, str] | None,
) -> bytes:
    """Encrypt ``plaintext`` under ``material`` and return a v1 blob naming key and material.

    ``key_id`` is the bare key id (``1234abcd-...`` or ``mrk-...``), never an ARN or an alias, so
    a blob opens in every Region a multi-Region key is replicated to. ``ValueError`` marks a caller
    bug (wrong sizes, malformed key id); its message never contains secret bytes.
    """
    urandom = os.urandom(NONCE_SIZE + IV_SIZE)
    nonce, iv = urandom[:NONCE_SIZE], urandom[NONCE_SIZE:]
    return _seal_with(material, key_id, material_id, nonce, iv, plaintext, context)


def _header_length(blob: bytes) -> int:
    """Validate the header and return its length; ``InvalidCiphertextException`` if malformed."""
    if len(blob) < 2 or blob[0] != FORMAT_VERSION:
        raise InvalidCiphertextException()
    id_len = blob[1]
    header_len = _FIXED_HEADER + id_len
    if len(blob) < header_len + TAG_SIZE or _KEY_ID.fullmatch(blob, 2, 2 + id_len) is None:
        raise InvalidCiphertextException()
    return header_len


def peek(blob: bytes) -> Header:
    """Parse the clear header without touching any key; malformed input is opaque-invalid.

    A blob whose header parses may still fail to open: nothing is authenticated until
    :func:`open_blob` checks the tag.
    """
    id_len = _header_length(blob) - _FIXED_HEADER
    key_id = blob[2 : 2 + id_len].decode("ascii")
    material_id = blob[2 + id_len : 2 + id_len + MATERIAL_ID_SIZE]
    return Header(version=blob[0], key_id=key_id, material_id=bytes(material_id))


def open_blob(material: bytes, blob: bytes, context: Mapping[str, str] | None) -> bytes:
    """Decrypt a v1 blob with ``material``; raise ``InvalidCiphertextException()`` on any failure.

    The caller chooses ``material`` from :func:`peek`'s header; a wrong key, a wrong context, a
    flipped bit, a truncated or extended blob and an unknown version all fail the same way.
    """
    try:
        header_len = _header_length(blob)
        nonce_at = header_len - NONCE_SIZE - IV_SIZE
        nonce = blob[nonce_at : nonce_at + NONCE_SIZE]
        iv = blob[header_len - IV_SIZE : header_len]
        aad = blob[:header_len] + canonical_context(context)
        key = _derive_key(material, nonce)
        return AESGCM(key).decrypt(iv, blob[header_len:], aad)
    except Exception:
        raise InvalidCiphertextException() from None
