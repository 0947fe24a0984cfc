"""What every key store offers the KMS operations: new material, and wrapping for storage.

The operations never hold a wrapping key. They ask a key store for fresh material, hand it back to
be wrapped before it is written, and ask for it to be unwrapped when it is read. The software store
wraps under the root key; a PKCS#11 or external store satisfies the same :class:`KeyStore`.
"""

from __future__ import annotations

import os
from typing import Protocol

__all__ = ["KeyStore", "new_material_id"]


class KeyStore(Protocol):
    """Generates symmetric, HMAC and private-key material and wraps secrets for storage at rest."""

    def new_symmetric_material(self) -> bytes:
        """Return 32 fresh random bytes for an AES-256 (SYMMETRIC_DEFAULT) material version."""
        ...

    def new_material(self, key_spec: str) -> bytes:
        """Return fresh random material for a key of ``key_spec``: 32 bytes for
        SYMMETRIC_DEFAULT, the digest size for an HMAC spec (28, 32, 48 or 64 bytes), a
        DER PKCS#8 private key for an RSA or ECC spec; a ``ValueError`` for a spec the store
        cannot make."""
        ...

    def wrap_material(self, material: bytes, key_arn: str, material_id: str) -> bytes:
        """Seal key material for storage, bound to the key's ARN and the material id."""
        ...

    def unwrap_material(self, wrapped: bytes, key_arn: str, material_id: str) -> bytes:
        """Reverse :meth:`wrap_material`; fails if the ARN or material id differ."""
        ...

    def wrap_secret(self, secret: bytes, purpose: str) -> bytes:
        """Seal any other stored secret (e.g. ``purpose="access-key:AKIA..."``)."""
        ...

    def unwrap_secret(self, wrapped: bytes, purpose: str) -> bytes:
        """Reverse :meth:`wrap_secret`; fails if ``purpose`` differs."""
        ...

    def derive_secret(self, purpose: str) -> bytes:
        """A 32-byte secret for ``purpose``, the same in every process and node of the
        deployment (derived from the root key; never stored)."""
        ...


def new_material_id() -> str:
    """A random key material id: 64 lower-case hex characters (AWS's ``KeyMaterialId`` form)."""
    return os.urandom(32).hex()
