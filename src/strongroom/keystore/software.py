"""The default key store: material generated in process and wrapped under the root key.

Each wrapped blob is bound by its AAD to exactly what it is, so a blob copied onto another key's
row, another material version or another access key will not unwrap. The AAD is an unambiguous
length-prefixed encoding (``u32`` big-endian length before every field)::

    material: fields(b"strongroom/material/v1", key_arn, material_id)
    secret:   fields(b"strongroom/secret/v1", purpose)

Unwrap failures raise :class:`~strongroom.errors.KMSInternalException` with no cause attached.
"""

from __future__ import annotations

import os
import struct

from strongroom.crypto.asymmetric import new_private_key
from strongroom.crypto.keyspecs import is_asymmetric
from strongroom.keystore.rootkey import RootKey

__all__ = ["SoftwareKeyStore"]

_U32 = struct.Struct(">I")
_MATERIAL_LABEL = b"strongroom/material/v1"
_SECRET_LABEL = b"strongroom/secret/v1"
_DERIVED_LABEL = b"strongroom/derived/v1"
_SYMMETRIC_MATERIAL_SIZE = 32
_MATERIAL_SIZES = {
    "SYMMETRIC_DEFAULT": _SYMMETRIC_MATERIAL_SIZE,
    "HMAC_224": 28,
    "HMAC_256": 32,
    "HMAC_384": 48,
    "HMAC_512": 64,
}


def _fields(*parts: bytes) -> bytes:
    return b"".join(_U32.pack(len(part)) + part for part in parts)


def _material_aad(key_arn: str, material_id: str) -> bytes:
    return _fields(_MATERIAL_LABEL, key_arn.encode("utf-8"), material_id.encode("utf-8"))


def _secret_aad(purpose: str) -> bytes:
    return _fields(_SECRET_LABEL, purpose.encode("utf-8"))


class SoftwareKeyStore:
    """A :class:`~strongroom.keystore.base.KeyStore` that keeps wrapped material in storage."""

    __slots__ = ("_root",)

    def __init__(self, root: RootKey) -> None:
        self._root = root

    def __repr__(self) -> str:
        return "SoftwareKeyStore()"

    def new_symmetric_material(self) -> bytes:
        return os.urandom(_SYMMETRIC_MATERIAL_SIZE)

    def new_material(self, key_spec: str) -> bytes:
        if is_asymmetric(key_spec):
            return new_private_key(key_spec)
        size = _MATERIAL_SIZES.get(key_spec)
        if size is None:
            raise ValueError(f"the software key store cannot make {key_spec} material")
        return os.urandom(size)

    def wrap_material(self, material: bytes, key_arn: str, material_id: str) -> bytes:
        return self._root.seal(material, _material_aad(key_arn, material_id))

    def unwrap_material(self, wrapped: bytes, key_arn: str, material_id: str) -> bytes:
        return self._root.open(wrapped, _material_aad(key_arn, material_id))

    def wrap_secret(self, secret: bytes, purpose: str) -> bytes:
        return self._root.seal(secret, _secret_aad(purpose))

    def unwrap_secret(self, wrapped: bytes, purpose: str) -> bytes:
        return self._root.open(wrapped, _secret_aad(purpose))

    def derive_secret(self, purpose: str) -> bytes:
        return self._root.derive(_fields(_DERIVED_LABEL, purpose.encode("utf-8")))
