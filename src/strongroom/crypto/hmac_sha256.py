"""HMAC-SHA256 (RFC 2104) on every request's path, with less overhead than ``hmac.digest``.

``hmac.digest(key, msg, "sha256")`` sets OpenSSL's HMAC up on every call: about 1.35 us for a
32-byte message on the hosts of ``benchmarks/RESULTS.md``, where two SHA-256 hashes of the same
bytes take 0.5. Every Encrypt and Decrypt makes three HMACs (the SigV4 signature, and HKDF's
extract and expand for the ciphertext's one-time key), so they are made here from ``hashlib``'s
SHA-256, as RFC 2104 defines them:

- :class:`HmacSha256` keeps a key's two padded SHA-256 states and copies them for each message
  (a SigV4 signing key signs every request of its scope for a day): 0.55 us;
- :func:`hmac_sha256` is one HMAC under a key used once (HKDF's keys are a random nonce and a
  derived key): 0.95 us.

Both equal ``hmac.digest`` for every key and message (``tests/unit/crypto/test_hmac_sha256.py``
holds them to it and to RFC 4231's vectors). The key is padded with integer XOR, not a table
look-up per byte, so no memory access depends on the key's bytes.
"""

from __future__ import annotations

import hashlib

__all__ = ["BLOCK_SIZE", "HmacSha256", "hmac_sha256"]

BLOCK_SIZE = 64  # SHA-256's block, in bytes
_IPAD = int.from_bytes(b"\x36" * BLOCK_SIZE, "big")
_OPAD = int.from_bytes(b"\x5c" * BLOCK_SIZE, "big")
_sha256 = hashlib.sha256
_from_bytes = int.from_bytes


def _padded(key: bytes) -> int:
    """The key as RFC 2104's B-byte block (hashed first if longer), as an integer."""
    if len(key) > BLOCK_SIZE:
        key = _sha256(key).digest()
    return _from_bytes(key.ljust(BLOCK_SIZE, b"\0"), "big")


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of ``message`` under ``key``: the same as ``hmac.digest(key, message,
    "sha256")``."""
    block = _padded(key)
    inner = _sha256((block ^ _IPAD).to_bytes(BLOCK_SIZE, "big") + message).digest()
    return _sha256((block ^ _OPAD).to_bytes(BLOCK_SIZE, "big") + inner).digest()


class HmacSha256:
    """One key's HMAC-SHA256, its padded states hashed once: :meth:`digest` per message."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        block = _padded(key)
        self._inner = _sha256((block ^ _IPAD).to_bytes(BLOCK_SIZE, "big"))
        self._outer = _sha256((block ^ _OPAD).to_bytes(BLOCK_SIZE, "big"))

    def __repr__(self) -> str:
        return "HmacSha256(<key hidden>)"

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()
