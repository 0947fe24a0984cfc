"""GenerateMac and VerifyMac on a real service: HMAC keys of every spec, their material size,
the MACs checked against the standard library, and AWS's errors for every misuse."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from strongroom.domain.caller import Caller
from strongroom.errors import (
    DisabledException,
    DryRunOperationException,
    InvalidKeyUsageException,
    KMSInvalidMacException,
    UnsupportedOperationException,
    ValidationException,
)
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.kms.operations import call
from strongroom.kms.service import KmsService

SPECS = {
    "HMAC_224": ("HMAC_SHA_224", hashlib.sha224, 28),
    "HMAC_256": ("HMAC_SHA_256", hashlib.sha256, 32),
    "HMAC_384": ("HMAC_SHA_384", hashlib.sha384, 48),
    "HMAC_512": ("HMAC_SHA_512", hashlib.sha512, 64),
}


def _call(svc: KmsService, caller: Caller, op: str, **params: Any) -> dict[str, Any]:
    return call(svc, caller, op, params)


def _hmac_key(svc: KmsService, caller: Caller, spec: str = "HMAC_256") -> dict[str, Any]:
    created = _call(svc, caller, "CreateKey", KeySpec=spec, KeyUsage="GENERATE_VERIFY_MAC")
    meta: dict[str, Any] = created["KeyMetadata"]
    return meta


def _raw_material(svc: KmsService, keystore: SoftwareKeyStore, meta: dict[str, Any]) -> bytes:
    """The key's material as stored, unwrapped by the key store (not through the service)."""
    (record,) = svc.keys.read.get_materials(meta["AWSAccountId"], "us-east-1", meta["KeyId"])
    return keystore.unwrap_material(_bytes(record.wrapped), meta["Arn"], record.material_id)


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_each_spec_makes_real_hmacs(
    svc: KmsService, caller: Caller, keystore: SoftwareKeyStore, spec: str
) -> None:
    algorithm, digest, size = SPECS[spec]
    meta = _hmac_key(svc, caller, spec)
    assert meta["KeySpec"] == meta["CustomerMasterKeySpec"] == spec
    assert meta["KeyUsage"] == "GENERATE_VERIFY_MAC"
    assert meta["KeyState"] == "Enabled"
    assert meta["MacAlgorithms"] == [algorithm]
    assert "EncryptionAlgorithms" not in meta
    material = _raw_material(svc, keystore, meta)
    assert len(material) == size
    made = _call(
        svc, caller, "GenerateMac", KeyId=meta["KeyId"], Message=b"m", MacAlgorithm=algorithm
    )
    assert made == {
        "Mac": hmac.new(material, b"m", digest).digest(),
        "MacAlgorithm": algorithm,
        "KeyId": meta["Arn"],
    }
    verified = _call(
        svc, caller, "VerifyMac", KeyId=meta["Arn"], Message=b"m", MacAlgorithm=algorithm,
        Mac=made["Mac"],
    )  # fmt: skip
    assert verified == {"KeyId": meta["Arn"], "MacValid": True, "MacAlgorithm": algorithm}


def test_a_wrong_mac_raises_and_never_answers_false(svc: KmsService, caller: Caller) -> None:
    meta = _hmac_key(svc, caller)
    tag = _call(svc, caller, "GenerateMac", KeyId=meta["KeyId"], Message=b"m",
                MacAlgorithm="HMAC_SHA_256")["Mac"]  # fmt: skip
    for message, mac in ((b"n", tag), (b"m", tag[:-1]), (b"m", bytes(32))):
        with pytest.raises(KMSInvalidMacException) as info:
            _call(svc, caller, "VerifyMac", KeyId=meta["KeyId"], Message=message,
                  MacAlgorithm="HMAC_SHA_256", Mac=mac)  # fmt: skip
        assert info.value.message is None


def test_create_key_refuses_bad_spec_and_usage(svc: KmsService, caller: Caller) -> None:
    with pytest.raises(ValidationException, match="You must specify a KeyUsage value"):
        _call(svc, caller, "CreateKey", KeySpec="HMAC_256")
    with pytest.raises(ValidationException, match="KeyUsage ENCRYPT_DECRYPT is not compatible"):
        _call(svc, caller, "CreateKey", KeySpec="HMAC_256", KeyUsage="ENCRYPT_DECRYPT")
    with pytest.raises(ValidationException, match="not compatible with KeySpec SYMMETRIC"):
        _call(svc, caller, "CreateKey", KeyUsage="GENERATE_VERIFY_MAC")
    with pytest.raises(UnsupportedOperationException, match="ML-KEM-768 and ML-KEM-1024 only"):
        _call(svc, caller, "CreateKey", KeySpec="ML_KEM_512", KeyUsage="ENCAPSULATE_DECAPSULATE")


def test_wrong_algorithm_and_wrong_key_usage(svc: KmsService, caller: Caller) -> None:
    meta = _hmac_key(svc, caller, "HMAC_224")
    with pytest.raises(InvalidKeyUsageException) as info:
        _call(svc, caller, "GenerateMac", KeyId=meta["KeyId"], Message=b"m",
              MacAlgorithm="HMAC_SHA_256")  # fmt: skip
    assert info.value.message == "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224."
    symmetric = _call(svc, caller, "CreateKey")["KeyMetadata"]
    with pytest.raises(InvalidKeyUsageException) as info:
        _call(svc, caller, "GenerateMac", KeyId=symmetric["KeyId"], Message=b"m",
              MacAlgorithm="HMAC_SHA_256")  # fmt: skip
    assert info.value.message == (
        f"{symmetric['Arn']} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac."
    )
    with pytest.raises(InvalidKeyUsageException) as info:
        _call(svc, caller, "Encrypt", KeyId=meta["KeyId"], Plaintext=b"x")
    assert info.value.message == (
        f"{meta['Arn']} key usage is GENERATE_VERIFY_MAC which is not valid for Encrypt."
    )


def test_disabled_key_and_dry_run(svc: KmsService, caller: Caller) -> None:
    meta = _hmac_key(svc, caller)
    params = {"KeyId": meta["KeyId"], "Message": b"m", "MacAlgorithm": "HMAC_SHA_256"}
    with pytest.raises(DryRunOperationException):
        _call(svc, caller, "GenerateMac", DryRun=True, **params)
    tag = _call(svc, caller, "GenerateMac", **params)["Mac"]
    with pytest.raises(DryRunOperationException):
        _call(svc, caller, "VerifyMac", Mac=tag, DryRun=True, **params)
    _call(svc, caller, "DisableKey", KeyId=meta["KeyId"])
    for op, extra in (("GenerateMac", {}), ("VerifyMac", {"Mac": tag})):
        with pytest.raises(DisabledException, match="is disabled"):
            _call(svc, caller, op, **params, **extra)


def _bytes(wrapped: bytes | None) -> bytes:
    assert wrapped is not None, "the material version has no bytes (deleted imported material)"
    return wrapped
