"""The key-store seam: a store that keeps its material inside (as an HSM does) and never exports it
serves every operation of every key type. No handler receives raw key material: the store hands
out only opaque references for storage, and results (ciphertexts, signatures, MACs, public keys,
shared secrets, data keys).

``VaultStore`` is that store, for these tests: it keeps each material version in a dict under a
random reference and performs operations with a software store's implementation inside; its
``export_material`` refuses, and counts the attempts.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization  # noqa: TID251 -- a peer's key
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: TID251 -- a peer's key

from strongroom.clock import Clock
from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord
from strongroom.keystore.base import AuditSigner, KeyHandle, KeyStore, NotExportable
from strongroom.keystore.rootkey import RootKey
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.kms.operations import call
from strongroom.kms.service import KmsService
from strongroom.storage import SqlStorage

_PREFIX = b"vault:"


class VaultStore:
    """A non-exportable key store: material lives in here; storage holds references."""

    def __init__(self) -> None:
        self._inner = SoftwareKeyStore(RootKey(os.urandom(32)))
        self._vault: dict[bytes, bytes] = {}  # reference -> the inner store's form
        self.export_attempts = 0

    @property
    def exportable(self) -> bool:
        return False

    def clear(self) -> None:
        self._inner.clear()

    def _keep(self, inner: bytes) -> bytes:
        reference = _PREFIX + os.urandom(16).hex().encode()
        self._vault[reference] = inner
        return reference

    def _in(self, handle: KeyHandle) -> KeyHandle:
        stored = handle.material.wrapped
        assert stored is not None
        assert stored.startswith(_PREFIX), "storage handed the store something it did not make"
        inner = dataclasses.replace(handle.material, wrapped=self._vault[stored])
        return KeyHandle(handle.key, inner)

    def create_material(self, key: KeyRecord, material_id: str) -> bytes:
        return self._keep(self._inner.create_material(key, material_id))

    def import_material(self, key: KeyRecord, material_id: str, material: bytes) -> bytes:
        return self._keep(self._inner.import_material(key, material_id, material))

    def copy_material(self, handle: KeyHandle, to: KeyRecord) -> bytes:
        return self._keep(self._inner.copy_material(self._in(handle), to))

    def export_material(self, handle: KeyHandle) -> bytes:
        self.export_attempts += 1
        raise NotExportable("the vault keeps its material")

    def encrypt(
        self, handle: KeyHandle, plaintext: bytes, context: Mapping[str, str] | None
    ) -> bytes:
        return self._inner.encrypt(self._in(handle), plaintext, context)

    def decrypt(self, handle: KeyHandle, blob: bytes, context: Mapping[str, str] | None) -> bytes:
        return self._inner.decrypt(self._in(handle), blob, context)

    def generate_data_key(
        self, handle: KeyHandle, size: int, context: Mapping[str, str] | None
    ) -> tuple[bytes, bytes]:
        return self._inner.generate_data_key(self._in(handle), size, context)

    def generate_mac(self, handle: KeyHandle, algorithm: str, message: bytes) -> bytes:
        return self._inner.generate_mac(self._in(handle), algorithm, message)

    def verify_mac(self, handle: KeyHandle, algorithm: str, message: bytes, mac: bytes) -> None:
        self._inner.verify_mac(self._in(handle), algorithm, message, mac)

    def public_key(self, handle: KeyHandle) -> bytes:
        return self._inner.public_key(self._in(handle))

    def encrypt_rsa(self, handle: KeyHandle, algorithm: str, plaintext: bytes) -> bytes:
        return self._inner.encrypt_rsa(self._in(handle), algorithm, plaintext)

    def decrypt_rsa(self, handle: KeyHandle, algorithm: str, ciphertext: bytes) -> bytes:
        return self._inner.decrypt_rsa(self._in(handle), algorithm, ciphertext)

    def sign(self, handle: KeyHandle, algorithm: str, message: bytes, message_type: str) -> bytes:
        return self._inner.sign(self._in(handle), algorithm, message, message_type)

    def verify(
        self,
        handle: KeyHandle,
        algorithm: str,
        message: bytes,
        message_type: str,
        signature: bytes,
    ) -> None:
        self._inner.verify(self._in(handle), algorithm, message, message_type, signature)

    def derive_shared_secret(self, handle: KeyHandle, peer_public_key: bytes) -> bytes:
        return self._inner.derive_shared_secret(self._in(handle), peer_public_key)

    def encapsulate(self, handle: KeyHandle) -> tuple[bytes, bytes]:
        return self._inner.encapsulate(self._in(handle))

    def decapsulate(self, handle: KeyHandle, ciphertext: bytes) -> bytes:
        return self._inner.decapsulate(self._in(handle), ciphertext)

    def wrap_secret(self, secret: bytes, purpose: str) -> bytes:
        return self._inner.wrap_secret(secret, purpose)

    def unwrap_secret(self, wrapped: bytes, purpose: str) -> bytes:
        return self._inner.unwrap_secret(wrapped, purpose)

    def derive_secret(self, purpose: str) -> bytes:
        return self._inner.derive_secret(purpose)

    def audit_signer(self, algorithm: str = "Ed25519") -> AuditSigner:
        return self._inner.audit_signer(algorithm)


@pytest.fixture
def vault() -> VaultStore:
    return VaultStore()


@pytest.fixture
def sealed(storage: SqlStorage, vault: VaultStore) -> KmsService:
    service = KmsService(storage, vault, Clock(), dev=True)
    service.refresh()
    return service


def _do(svc: KmsService, caller: Caller, op: str, **params: Any) -> dict[str, Any]:
    return call(svc, caller, op, params)


def _key(svc: KmsService, caller: Caller, **params: Any) -> str:
    return str(_do(svc, caller, "CreateKey", **params)["KeyMetadata"]["KeyId"])


def test_the_vault_is_a_key_store(vault: VaultStore) -> None:
    store: KeyStore = vault
    assert store.exportable is False


def test_symmetric_keys_serve_everything_without_export(
    sealed: KmsService, vault: VaultStore, caller: Caller
) -> None:
    key_id = _key(sealed, caller, MultiRegion=True)
    blob = _do(
        sealed, caller, "Encrypt", KeyId=key_id, Plaintext=b"p", EncryptionContext={"a": "b"}
    )
    opened = _do(sealed, caller, "Decrypt", CiphertextBlob=blob["CiphertextBlob"],
                 EncryptionContext={"a": "b"})  # fmt: skip
    assert opened["Plaintext"] == b"p"
    other = _key(sealed, caller)
    moved = _do(sealed, caller, "ReEncrypt", CiphertextBlob=blob["CiphertextBlob"],
                SourceEncryptionContext={"a": "b"}, DestinationKeyId=other)  # fmt: skip
    assert (
        _do(sealed, caller, "Decrypt", CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == b"p"
    )
    data = _do(sealed, caller, "GenerateDataKey", KeyId=key_id, NumberOfBytes=32)
    assert (
        _do(sealed, caller, "Decrypt", CiphertextBlob=data["CiphertextBlob"])["Plaintext"]
        == (data["Plaintext"])
    )
    _do(sealed, caller, "GenerateDataKeyWithoutPlaintext", KeyId=key_id, KeySpec="AES_256")
    pair = _do(sealed, caller, "GenerateDataKeyPair", KeyId=key_id, KeyPairSpec="ECC_NIST_P256")
    assert pair["PrivateKeyPlaintext"]
    _do(sealed, caller, "RotateKeyOnDemand", KeyId=key_id)
    west = Caller.root(caller.account, "us-west-2", caller.access_key_id)
    _do(sealed, caller, "ReplicateKey", KeyId=key_id, ReplicaRegion="us-west-2")
    assert _do(sealed, west, "Decrypt", CiphertextBlob=blob["CiphertextBlob"],
               EncryptionContext={"a": "b"})["Plaintext"] == b"p"  # fmt: skip
    _only_references(sealed, caller, key_id, vault)


def test_asymmetric_and_hmac_keys_serve_everything_without_export(
    sealed: KmsService, vault: VaultStore, caller: Caller
) -> None:
    signer = _key(sealed, caller, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    sig = _do(sealed, caller, "Sign", KeyId=signer, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert _do(sealed, caller, "Verify", KeyId=signer, Message=b"m", Signature=sig["Signature"],
               SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]  # fmt: skip
    assert _do(sealed, caller, "GetPublicKey", KeyId=signer)["PublicKey"]

    rsa = _key(sealed, caller, KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    sealed_blob = _do(sealed, caller, "Encrypt", KeyId=rsa, Plaintext=b"r",
                      EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]  # fmt: skip
    assert _do(sealed, caller, "Decrypt", KeyId=rsa, CiphertextBlob=sealed_blob,
               EncryptionAlgorithm="RSAES_OAEP_SHA_256")["Plaintext"] == b"r"  # fmt: skip

    hmac = _key(sealed, caller, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    tag = _do(sealed, caller, "GenerateMac", KeyId=hmac, Message=b"m", MacAlgorithm="HMAC_SHA_256")
    assert _do(sealed, caller, "VerifyMac", KeyId=hmac, Message=b"m", Mac=tag["Mac"],
               MacAlgorithm="HMAC_SHA_256")["MacValid"]  # fmt: skip

    agree = _key(sealed, caller, KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
    peer = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert _do(sealed, caller, "DeriveSharedSecret", KeyId=agree, PublicKey=peer,
               KeyAgreementAlgorithm="ECDH")["SharedSecret"]  # fmt: skip

    kem = _key(sealed, caller, KeySpec="ML_KEM_768", KeyUsage="ENCAPSULATE_DECAPSULATE")
    out = _do(sealed, caller, "Encapsulate", KeyId=kem, EncapsulationAlgorithm="ML_KEM")
    back = _do(sealed, caller, "Decapsulate", KeyId=kem, EncapsulationAlgorithm="ML_KEM",
               SharedSecretCiphertextBlob=out["SharedSecretCiphertextBlob"])  # fmt: skip
    assert back["SharedSecret"] == out["SharedSecret"]
    for key_id in (signer, rsa, hmac, agree, kem):
        _only_references(sealed, caller, key_id, vault)


def _only_references(svc: KmsService, caller: Caller, key_id: str, vault: VaultStore) -> None:
    """Storage holds only the vault's references, and nothing asked for raw material."""
    rows = svc.keys.read.get_materials(caller.account, caller.region, key_id)
    assert rows
    assert all(row.wrapped is not None and row.wrapped.startswith(_PREFIX) for row in rows)
    assert vault.export_attempts == 0
