"""The default key store: material generated in process, wrapped under the root key for storage,
and used in process (each material version is unwrapped once and kept in memory, parsed once for
a private key, until storage changes).

Each wrapped blob is bound by its AAD to exactly what it is, so a blob copied onto another key's
row, another material version or another access key will not unwrap. The AAD is an unambiguous
length-prefixed encoding (``u32`` big-endian length before every field)::

    material: fields(b"strongroom/material/v1", key_arn, material_id)
    secret:   fields(b"strongroom/secret/v1", purpose)
    audit:    fields(b"strongroom/audit-signing/v1", algorithm)

The audit signing key (:meth:`SoftwareKeyStore.audit_signer`) is kept in one file beside the root
key, ``audit-signing.key`` (0600), one ASCII line::

    strongroom-audit-signing-key-v1:<algorithm>:<standard base64 of the wrapped DER PKCS#8 key>\n

Unwrap failures raise :class:`~strongroom.errors.KMSInternalException` with no cause attached.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

from strongroom.crypto import (
    agreement,
    ciphertext,
    kem,
    mac,
    rsa_encryption,
    signing,
    trail_signature,
)
from strongroom.crypto.asymmetric import (
    PrivateKey,
    load_private_key,
    new_private_key,
    public_der_of,
)
from strongroom.crypto.keyspecs import is_asymmetric
from strongroom.domain.keys import KeyRecord
from strongroom.errors import KMSInternalException
from strongroom.keystore.base import KeyHandle, NotExportable
from strongroom.keystore.rootkey import RootKey

__all__ = ["AUDIT_KEY_FILE", "SoftwareKeyStore"]

AUDIT_KEY_FILE = "audit-signing.key"
_AUDIT_KEY_PREFIX = "strongroom-audit-signing-key-v1:"
_AUDIT_LABEL = b"strongroom/audit-signing/v1"

_U32 = struct.Struct(">I")
_MATERIAL_LABEL = b"strongroom/material/v1"
_SECRET_LABEL = b"strongroom/secret/v1"
_DERIVED_LABEL = b"strongroom/derived/v1"
_SYMMETRIC_MATERIAL_SIZE = 32
_MAX_CACHED = 100_000  # material versions kept unwrapped; past it the cache starts again
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


class _AuditSigner:
    """The audit signing key, unwrapped in memory; signs, never shows its private half."""

    __slots__ = ("__key", "_algorithm", "_public")

    def __init__(self, algorithm: str, private_der: bytes) -> None:
        self._algorithm = algorithm
        self.__key = load_private_key(private_der)
        self._public = public_der_of(self.__key)

    def __repr__(self) -> str:
        return f"AuditSigner({self._algorithm}, <redacted>)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("an audit signer cannot be pickled")

    @property
    def algorithm(self) -> str:
        return self._algorithm

    def sign(self, data: bytes) -> bytes:
        return trail_signature.sign(self.__key, self._algorithm, data)

    def public_key_der(self) -> bytes:
        return self._public


class SoftwareKeyStore:
    """A :class:`~strongroom.keystore.base.KeyStore` whose material is wrapped in storage.

    ``audit_key_file`` is where the wrapped audit signing key lives (normally
    ``<data dir>/audit-signing.key``); without one the store has no audit signer.
    """

    __slots__ = ("_audit_key_file", "_audit_signer", "_exportable", "_plain", "_private", "_root")

    def __init__(
        self, root: RootKey, *, exportable: bool = True, audit_key_file: Path | None = None
    ) -> None:
        self._root = root
        self._exportable = exportable
        self._audit_key_file = audit_key_file
        self._audit_signer: _AuditSigner | None = None
        # Keyed by (key ARN, material id, stored bytes): a re-imported version (same id, new
        # bytes) is never served from a stale entry.
        self._plain: dict[tuple[str, str, bytes], bytes] = {}
        self._private: dict[tuple[str, str, bytes], PrivateKey] = {}

    def __repr__(self) -> str:
        return "SoftwareKeyStore()"

    @property
    def exportable(self) -> bool:
        return self._exportable

    def clear(self) -> None:
        self._plain.clear()
        self._private.clear()

    # -- material ----------------------------------------------------------------------------------
    def _new(self, key_spec: str) -> bytes:
        if is_asymmetric(key_spec):
            return new_private_key(key_spec)
        size = _MATERIAL_SIZES.get(key_spec)
        if size is None:
            raise ValueError(f"the software key store cannot make {key_spec} material")
        return os.urandom(size)

    def create_material(self, key: KeyRecord, material_id: str) -> bytes:
        return self.wrap_material(self._new(key.key_spec.value), key.arn, material_id)

    def import_material(self, key: KeyRecord, material_id: str, material: bytes) -> bytes:
        return self.wrap_material(material, key.arn, material_id)

    def copy_material(self, handle: KeyHandle, to: KeyRecord) -> bytes:
        return self.wrap_material(self._material(handle), to.arn, handle.material_id)

    def export_material(self, handle: KeyHandle) -> bytes:
        if not self._exportable:
            raise NotExportable("this key store does not export key material")
        return self._material(handle)

    # The at-rest form, public on this store only (tests and tools check it; operations see
    # the KeyStore protocol, which has no such door).
    def wrap_material(self, material: bytes, key_arn: str, material_id: str) -> bytes:
        """Seal key material for storage, bound to the key's ARN and the material id."""
        return self._root.seal(material, _material_aad(key_arn, material_id))

    def unwrap_material(self, wrapped: bytes, key_arn: str, material_id: str) -> bytes:
        """Reverse :meth:`wrap_material`; KMSInternalException if the ARN or id differ."""
        return self._root.open(wrapped, _material_aad(key_arn, material_id))

    def _material(self, handle: KeyHandle) -> bytes:
        """The unwrapped material of ``handle``, unwrapped once."""
        stored = handle.material.wrapped
        if stored is None:  # imported material that was deleted or expired
            raise KMSInternalException("The key's current material is missing.")
        ident = (handle.key.arn, handle.material_id, stored)
        found = self._plain.get(ident)
        if found is None:
            if len(self._plain) >= _MAX_CACHED:
                self.clear()
            found = self._plain[ident] = self.unwrap_material(
                stored, handle.key.arn, handle.material_id
            )
        return found

    def _private_key(self, handle: KeyHandle) -> PrivateKey:
        """The private key of an asymmetric ``handle``, parsed once."""
        material = self._material(handle)
        assert handle.material.wrapped is not None  # _material checked it
        ident = (handle.key.arn, handle.material_id, handle.material.wrapped)
        found = self._private.get(ident)
        if found is None:
            found = self._private[ident] = load_private_key(material)
        return found

    # -- symmetric keys ----------------------------------------------------------------------------
    def encrypt(
        self, handle: KeyHandle, plaintext: bytes, context: Mapping[str, str] | None
    ) -> bytes:
        material_id = bytes.fromhex(handle.material_id)
        return ciphertext.seal(
            self._material(handle), handle.key.key_id, material_id, plaintext, context
        )

    def decrypt(self, handle: KeyHandle, blob: bytes, context: Mapping[str, str] | None) -> bytes:
        return ciphertext.open_blob(self._material(handle), blob, context)

    def generate_data_key(
        self, handle: KeyHandle, size: int, context: Mapping[str, str] | None
    ) -> tuple[bytes, bytes]:
        plaintext = os.urandom(size)
        return plaintext, self.encrypt(handle, plaintext, context)

    def generate_mac(self, handle: KeyHandle, algorithm: str, message: bytes) -> bytes:
        return mac.mac(algorithm, self._material(handle), message)

    def verify_mac(self, handle: KeyHandle, algorithm: str, message: bytes, tag: bytes) -> None:
        mac.verify_mac(algorithm, self._material(handle), message, tag)

    # -- asymmetric keys ---------------------------------------------------------------------------
    def public_key(self, handle: KeyHandle) -> bytes:
        return public_der_of(self._private_key(handle))

    def encrypt_rsa(self, handle: KeyHandle, algorithm: str, plaintext: bytes) -> bytes:
        return rsa_encryption.encrypt(self._private_key(handle), algorithm, plaintext)

    def decrypt_rsa(self, handle: KeyHandle, algorithm: str, data: bytes) -> bytes:
        return rsa_encryption.decrypt(self._private_key(handle), algorithm, data)

    def sign(self, handle: KeyHandle, algorithm: str, message: bytes, message_type: str) -> bytes:
        return signing.sign(self._private_key(handle), algorithm, message, message_type)

    def verify(
        self,
        handle: KeyHandle,
        algorithm: str,
        message: bytes,
        message_type: str,
        signature: bytes,
    ) -> None:
        private = self._private_key(handle)
        signing.verify(private, algorithm, message, message_type, signature=signature)

    def derive_shared_secret(self, handle: KeyHandle, peer_public_key: bytes) -> bytes:
        return agreement.derive_shared_secret(self._private_key(handle), peer_public_key)

    def encapsulate(self, handle: KeyHandle) -> tuple[bytes, bytes]:
        return kem.encapsulate(self._private_key(handle))

    def decapsulate(self, handle: KeyHandle, data: bytes) -> bytes:
        return kem.decapsulate(self._private_key(handle), data)

    # -- the audit signing key ---------------------------------------------------------------------
    def audit_signer(self, algorithm: str = trail_signature.DEFAULT_ALGORITHM) -> _AuditSigner:
        if self._audit_signer is None:
            path = self._audit_key_file
            if path is None:
                raise KMSInternalException("this key store has no audit signing key file")
            if not path.exists():
                self._create_audit_key(path, algorithm)
            stored, wrapped = _parse_audit_key_file(path.read_bytes(), path)
            private_der = self._root.open(wrapped, _fields(_AUDIT_LABEL, stored.encode()))
            self._audit_signer = _AuditSigner(stored, private_der)
        return self._audit_signer

    def _create_audit_key(self, path: Path, algorithm: str) -> None:
        """Write a new wrapped key, atomically: a process that loses the race uses the winner's."""
        private_der = trail_signature.new_signing_key(algorithm)
        wrapped = self._root.seal(private_der, _fields(_AUDIT_LABEL, algorithm.encode()))
        line = f"{_AUDIT_KEY_PREFIX}{algorithm}:{base64.b64encode(wrapped).decode()}\n"
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    # -- root secrets ------------------------------------------------------------------------------
    def wrap_secret(self, secret: bytes, purpose: str) -> bytes:
        return self._root.seal(secret, _secret_aad(purpose))

    def unwrap_secret(self, wrapped: bytes, purpose: str) -> bytes:
        return self._root.open(wrapped, _secret_aad(purpose))

    def derive_secret(self, purpose: str) -> bytes:
        return self._root.derive(_fields(_DERIVED_LABEL, purpose.encode("utf-8")))


def _parse_audit_key_file(data: bytes, path: Path) -> tuple[str, bytes]:
    """``(algorithm, wrapped key)`` from an audit signing key file."""
    text = data.decode("ascii", errors="replace").strip()
    if text.startswith(_AUDIT_KEY_PREFIX):
        algorithm, _, encoded = text[len(_AUDIT_KEY_PREFIX) :].partition(":")
        try:
            wrapped = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            wrapped = b""
        if algorithm in trail_signature.ALGORITHMS and wrapped:
            return algorithm, wrapped
    raise KMSInternalException(f"{path} is not a strongroom audit signing key file")
