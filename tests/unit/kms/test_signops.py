"""Sign, Verify and GetPublicKey on a real service: keys of every signing spec, RAW and DIGEST
messages, AWS's errors for every misuse, grants, states and DryRun."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from strongroom.crypto import signing
from strongroom.errors import (
    DisabledException,
    DryRunOperationException,
    InvalidKeyUsageException,
    KMSInvalidSignatureException,
    UnsupportedOperationException,
    ValidationException,
)
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.kms.context import Caller
from strongroom.kms.grant_match import grant_operations_for
from strongroom.kms.model import KeySpec, KeyUsage
from strongroom.kms.operations import call
from strongroom.kms.service import KmsService

SPECS = ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "RSA_2048"]


def _call(svc: KmsService, caller: Caller, op: str, **params: Any) -> dict[str, Any]:
    return call(svc, caller, op, params)


def _signing_key(svc: KmsService, caller: Caller, spec: str = "ECC_NIST_P256") -> dict[str, Any]:
    created = _call(svc, caller, "CreateKey", KeySpec=spec, KeyUsage="SIGN_VERIFY")
    meta: dict[str, Any] = created["KeyMetadata"]
    return meta


@pytest.mark.parametrize("spec", SPECS)
def test_each_spec_signs_raw_and_digest(
    svc: KmsService, caller: Caller, keystore: SoftwareKeyStore, spec: str
) -> None:
    meta = _signing_key(svc, caller, spec)
    algorithms = list(signing.SIGNING_ALGORITHMS[spec])
    assert (meta["KeySpec"], meta["CustomerMasterKeySpec"]) == (spec, spec)
    assert meta["KeyUsage"] == "SIGN_VERIFY"
    assert meta["SigningAlgorithms"] == algorithms
    assert "EncryptionAlgorithms" not in meta
    (record,) = svc.storage.get_materials(meta["AWSAccountId"], "us-east-1", meta["KeyId"])
    private = keystore.unwrap_material(record.wrapped, meta["Arn"], record.material_id)
    public = _call(svc, caller, "GetPublicKey", KeyId=meta["KeyId"])
    assert public["PublicKey"] == signing.public_key_der(private)
    assert public["SigningAlgorithms"] == algorithms
    for algorithm in algorithms:
        digest = hashlib.new("sha" + algorithm[-3:], b"message").digest()
        for message, kind in ((b"message", "RAW"), (digest, "DIGEST")):
            made = _call(
                svc, caller, "Sign", KeyId=meta["KeyId"], Message=message,
                MessageType=kind, SigningAlgorithm=algorithm,
            )  # fmt: skip
            assert (made["KeyId"], made["SigningAlgorithm"]) == (meta["Arn"], algorithm)
            signing.verify(spec, algorithm, private, b"message", "RAW", signature=made["Signature"])
            checked = _call(
                svc, caller, "Verify", KeyId=meta["Arn"], Message=message, MessageType=kind,
                SigningAlgorithm=algorithm, Signature=made["Signature"],
            )  # fmt: skip
            assert checked == {
                "KeyId": meta["Arn"], "SignatureValid": True, "SigningAlgorithm": algorithm,
            }  # fmt: skip


def test_bad_signature_digest_length_and_algorithm(svc: KmsService, caller: Caller) -> None:
    key_id = _signing_key(svc, caller)["KeyId"]
    base = {"KeyId": key_id, "SigningAlgorithm": "ECDSA_SHA_256"}
    signature = _call(svc, caller, "Sign", Message=b"m", **base)["Signature"]
    with pytest.raises(KMSInvalidSignatureException) as info:
        _call(svc, caller, "Verify", Message=b"n", Signature=signature, **base)
    assert str(info.value) == "KMSInvalidSignatureException"
    with pytest.raises(ValidationException) as bad_digest:
        _call(svc, caller, "Sign", Message=b"m" * 31, MessageType="DIGEST", **base)
    assert str(bad_digest.value) == "Digest is invalid length for algorithm ECDSA_SHA_256."
    with pytest.raises(InvalidKeyUsageException) as wrong:
        _call(svc, caller, "Sign", KeyId=key_id, Message=b"m", SigningAlgorithm="ECDSA_SHA_384")
    assert (
        str(wrong.value) == "Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256."
    )
    with pytest.raises(ValidationException, match="EXTERNAL_MU"):
        _call(svc, caller, "Sign", Message=b"m", MessageType="EXTERNAL_MU", **base)


def test_wrong_usage_both_ways(svc: KmsService, caller: Caller) -> None:
    meta = _signing_key(svc, caller)
    symmetric = _call(svc, caller, "CreateKey")["KeyMetadata"]
    with pytest.raises(InvalidKeyUsageException) as sign_symmetric:
        _call(svc, caller, "Sign", KeyId=symmetric["KeyId"], Message=b"m",
              SigningAlgorithm="ECDSA_SHA_256")  # fmt: skip
    assert str(sign_symmetric.value) == (
        f"{symmetric['Arn']} key usage is ENCRYPT_DECRYPT which is not valid for Sign."
    )
    with pytest.raises(InvalidKeyUsageException) as encrypt_signing:
        _call(svc, caller, "Encrypt", KeyId=meta["KeyId"], Plaintext=b"p")
    assert str(encrypt_signing.value) == (
        f"{meta['Arn']} key usage is SIGN_VERIFY which is not valid for Encrypt."
    )
    with pytest.raises(InvalidKeyUsageException, match="SIGN_VERIFY which is not valid for Gen"):
        _call(svc, caller, "GenerateMac", KeyId=meta["KeyId"], Message=b"m",
              MacAlgorithm="HMAC_SHA_256")  # fmt: skip
    with pytest.raises(UnsupportedOperationException):
        _call(svc, caller, "GetPublicKey", KeyId=symmetric["KeyId"])


def test_create_key_spec_usage_rules(svc: KmsService, caller: Caller) -> None:
    with pytest.raises(ValidationException, match="You must specify a KeyUsage"):
        _call(svc, caller, "CreateKey", KeySpec="ECC_NIST_P256")
    with pytest.raises(ValidationException, match="not compatible with KeySpec ECC_SECG_P256K1"):
        _call(svc, caller, "CreateKey", KeySpec="ECC_SECG_P256K1", KeyUsage="KEY_AGREEMENT")
    with pytest.raises(ValidationException, match="not compatible with KeySpec ML_DSA_65"):
        _call(svc, caller, "CreateKey", KeySpec="ML_DSA_65", KeyUsage="ENCRYPT_DECRYPT")
    with pytest.raises(UnsupportedOperationException, match="only in AWS's China Regions"):
        _call(svc, caller, "CreateKey", KeySpec="SM2", KeyUsage="ENCRYPT_DECRYPT")


def test_dry_run_alias_and_disabled(svc: KmsService, caller: Caller) -> None:
    key_id = _signing_key(svc, caller)["KeyId"]
    _call(svc, caller, "CreateAlias", AliasName="alias/signer", TargetKeyId=key_id)
    base = {"KeyId": "alias/signer", "Message": b"m", "SigningAlgorithm": "ECDSA_SHA_256"}
    signature = _call(svc, caller, "Sign", **base)["Signature"]
    with pytest.raises(DryRunOperationException):
        _call(svc, caller, "Sign", DryRun=True, **base)
    with pytest.raises(DryRunOperationException):
        _call(svc, caller, "Verify", DryRun=True, Signature=signature, **base)
    _call(svc, caller, "DisableKey", KeyId=key_id)
    with pytest.raises(DisabledException):
        _call(svc, caller, "Sign", **base)
    with pytest.raises(DisabledException):
        _call(svc, caller, "GetPublicKey", KeyId=key_id)


def test_grant_operations_for_signing_keys(svc: KmsService, caller: Caller) -> None:
    assert grant_operations_for(KeySpec.ECC_NIST_P256, KeyUsage.SIGN_VERIFY) == {
        "Sign", "Verify", "GetPublicKey", "DescribeKey", "CreateGrant", "RetireGrant",
    }  # fmt: skip
    key_id = _signing_key(svc, caller)["KeyId"]
    grantee = "arn:aws:iam::111122223333:role/signer"
    with pytest.raises(ValidationException, match="Encrypt"):
        _call(svc, caller, "CreateGrant", KeyId=key_id, GranteePrincipal=grantee,
              Operations=["Encrypt"])  # fmt: skip
