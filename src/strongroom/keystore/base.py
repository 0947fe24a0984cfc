"""What every key store offers: operations performed by key handle, and the root's secrets.

A KMS operation never holds key material. It names the material by a :class:`KeyHandle` (the key
and the stored record of one material version) and asks the key store to encrypt, decrypt, sign,
verify, MAC, derive, decapsulate or make a data key with it. What storage keeps of a material
version (``MaterialRecord.wrapped``) is the store's own: the software store keeps the material
wrapped under the root key; a PKCS#11 store keeps a reference to an object in the HSM.

Raw key bytes leave a store only on the export paths, and only a store that allows it
(:attr:`KeyStore.exportable`): the plaintext of a data key or data key pair is the caller's and
not key material; imported material comes in, never goes out.

IAM and grant tokens need only :class:`RootSecrets`: sealing and opening the secrets that sit in
storage (access keys, session secrets, grant tokens) and deriving deployment-wide secrets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from strongroom.domain.keys import KeyRecord, MaterialRecord

__all__ = [
    "AuditSigner",
    "KeyHandle",
    "KeyStore",
    "NotExportable",
    "RootSecrets",
    "new_material_id",
]


class NotExportable(Exception):
    """The store keeps its key material inside: it does not hand raw key bytes out."""


@dataclass(frozen=True, slots=True)
class KeyHandle:
    """One material version of one key: what every key-store operation acts on."""

    key: KeyRecord
    material: MaterialRecord

    @property
    def material_id(self) -> str:
        return self.material.material_id


class RootSecrets(Protocol):
    """Secrets at rest that are not key material, sealed by the root of trust."""

    def wrap_secret(self, secret: bytes, purpose: str) -> bytes:
        """Seal a stored secret (e.g. ``purpose="access-key:AKIA..."``)."""
        ...

    def unwrap_secret(self, wrapped: bytes, purpose: str) -> bytes:
        """Reverse :meth:`wrap_secret`; fails if ``purpose`` differs."""
        ...

    def derive_secret(self, purpose: str) -> bytes:
        """A 32-byte secret for ``purpose``, the same in every process and node of the
        deployment (derived from the root key; never stored)."""
        ...


class AuditSigner(Protocol):
    """The audit signing key, lent by the store: it signs the trail's digests; its private half
    never leaves the store (the shape :class:`strongroom.audit.digest.Signer` expects)."""

    @property
    def algorithm(self) -> str:
        """``"Ed25519"`` or ``"SHA384withECDSA"``."""
        ...

    def sign(self, data: bytes) -> bytes: ...

    def public_key_der(self) -> bytes:
        """The DER SubjectPublicKeyInfo of the signing key."""
        ...


class KeyStore(RootSecrets, Protocol):
    """Makes, keeps and uses KMS key material; operations are by :class:`KeyHandle`."""

    @property
    def exportable(self) -> bool:
        """Whether :meth:`export_material` may hand raw key material out."""
        ...

    def clear(self) -> None:
        """Forget whatever the store cached of stored material (storage changed)."""
        ...

    def audit_signer(self, algorithm: str = "Ed25519") -> AuditSigner:
        """The audit signing key, created on first use (``algorithm`` applies only then:
        ``"Ed25519"`` or ``"SHA384withECDSA"``); the same key for every process of the
        deployment."""
        ...

    # -- material ------------------------------------------------------------------------------
    def create_material(self, key: KeyRecord, material_id: str) -> bytes:
        """Make fresh material for ``key``'s spec (AES-256, HMAC, a key pair) and return what
        storage keeps of it (bound to the key's ARN and ``material_id``); ``ValueError`` for a
        spec the store cannot make."""
        ...

    def import_material(self, key: KeyRecord, material_id: str, material: bytes) -> bytes:
        """Take material the caller imported (ImportKeyMaterial); return what storage keeps."""
        ...

    def copy_material(self, handle: KeyHandle, to: KeyRecord) -> bytes:
        """The same material, as storage keeps it for another key of the same id (a
        multi-Region replica, or a member of a rotation); the bytes stay in the store."""
        ...

    def export_material(self, handle: KeyHandle) -> bytes:
        """The raw material: only for an exportable store; :class:`NotExportable` otherwise."""
        ...

    # -- symmetric keys ------------------------------------------------------------------------
    def encrypt(
        self, handle: KeyHandle, plaintext: bytes, context: Mapping[str, str] | None
    ) -> bytes:
        """Strongroom's ciphertext blob of ``plaintext`` bound to ``context``."""
        ...

    def decrypt(self, handle: KeyHandle, blob: bytes, context: Mapping[str, str] | None) -> bytes:
        """Open a blob; ``InvalidCiphertextException`` on any failure."""
        ...

    def generate_data_key(
        self, handle: KeyHandle, size: int, context: Mapping[str, str] | None
    ) -> tuple[bytes, bytes]:
        """A fresh data key of ``size`` bytes and its blob under the key."""
        ...

    def generate_mac(self, handle: KeyHandle, algorithm: str, message: bytes) -> bytes: ...

    def verify_mac(self, handle: KeyHandle, algorithm: str, message: bytes, mac: bytes) -> None:
        """Return if ``mac`` is right; ``KMSInvalidMacException`` otherwise."""
        ...

    # -- asymmetric keys -----------------------------------------------------------------------
    def public_key(self, handle: KeyHandle) -> bytes:
        """The DER SubjectPublicKeyInfo of an asymmetric key."""
        ...

    def encrypt_rsa(self, handle: KeyHandle, algorithm: str, plaintext: bytes) -> bytes: ...

    def decrypt_rsa(self, handle: KeyHandle, algorithm: str, ciphertext: bytes) -> bytes: ...

    def sign(self, handle: KeyHandle, algorithm: str, message: bytes, message_type: str) -> bytes:
        """``ValueError`` when the message breaks the algorithm's rules."""
        ...

    def verify(
        self,
        handle: KeyHandle,
        algorithm: str,
        message: bytes,
        message_type: str,
        signature: bytes,
    ) -> None:
        """Return if the signature is right; ``KMSInvalidSignatureException`` otherwise."""
        ...

    def derive_shared_secret(self, handle: KeyHandle, peer_public_key: bytes) -> bytes: ...

    def encapsulate(self, handle: KeyHandle) -> tuple[bytes, bytes]:
        """``(shared secret, ciphertext)`` under an ML-KEM key's public key."""
        ...

    def decapsulate(self, handle: KeyHandle, ciphertext: bytes) -> bytes: ...


def new_material_id() -> str:
    """A random key material id: 64 lower-case hex characters (AWS's ``KeyMaterialId`` form)."""
    return os.urandom(32).hex()
