"""HMAC (RFC 2104) for GenerateMac and VerifyMac, by KMS MAC algorithm name.

Verification compares in constant time and fails opaquely: :class:`KMSInvalidMacException`
carries no message, whatever was wrong.
"""

from __future__ import annotations

import hashlib
import hmac

from strongroom.errors import KMSInvalidMacException

__all__ = ["MAC_ALGORITHMS", "mac", "verify_mac"]

MAC_ALGORITHMS = {
    "HMAC_SHA_224": hashlib.sha224,
    "HMAC_SHA_256": hashlib.sha256,
    "HMAC_SHA_384": hashlib.sha384,
    "HMAC_SHA_512": hashlib.sha512,
}


def mac(algorithm: str, key: bytes, message: bytes) -> bytes:
    """The HMAC tag of ``message`` under ``key`` with ``algorithm`` (e.g. ``HMAC_SHA_256``);
    a ``ValueError`` for an unknown algorithm."""
    digest = MAC_ALGORITHMS.get(algorithm)
    if digest is None:
        raise ValueError(f"unknown MAC algorithm {algorithm}")
    return hmac.new(key, message, digest).digest()


def verify_mac(algorithm: str, key: bytes, message: bytes, tag: bytes) -> None:
    """Return if ``tag`` is the HMAC of ``message``; raise :class:`KMSInvalidMacException`
    (never return ``False``) otherwise."""
    if not hmac.compare_digest(mac(algorithm, key, message), tag):
        raise KMSInvalidMacException()
