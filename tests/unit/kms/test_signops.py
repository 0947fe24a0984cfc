"""Sign, Verify and GetPublicKey on a real service: keys of every signing spec, RAW and DIGEST
messages, AWS's errors for every misuse, grants, states and DryRun."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import (  # noqa: TID251 -- independent check
    mldsa,
)

from strongroom.crypto import keyspecs, signing
from strongroom.crypto.asymmetric import PrivateKey, load_private_key, public_der_of
from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeySpec, KeyUsage
from strongroom.errors import (
    DisabledException,
    DryRunOperationException,
    InvalidKeyUsageException,
    KMSInvalidSignatureException,
    ServiceError,
    UnsupportedOperationException,
    ValidationException,
)
from strongroom.keystore.software import SoftwareKeyStore
from strongroom.kms.grant_match import grant_operations_for
from strongroom.kms.operations import call
from strongroom.kms.service import KmsService

SPECS = [
    "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "RSA_2048",
    "ECC_NIST_EDWARDS25519", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87",
]  # fmt: skip


def _call(svc: KmsService, caller: Caller, op: str, **params: Any) -> dict[str, Any]:
    return call(svc, caller, op, params)


def _signing_key(svc: KmsService, caller: Caller, spec: str = "ECC_NIST_P256") -> dict[str, Any]:
    created = _call(svc, caller, "CreateKey", KeySpec=spec, KeyUsage="SIGN_VERIFY")
    meta: dict[str, Any] = created["KeyMetadata"]
    return meta


def _private(svc: KmsService, keystore: SoftwareKeyStore, meta: dict[str, Any]) -> PrivateKey:
    """The key's private key, unwrapped from storage apart from the service's cache."""
    (record,) = svc.keys.read.get_materials(meta["AWSAccountId"], "us-east-1", meta["KeyId"])
    return load_private_key(
        keystore.unwrap_material(_bytes(record.wrapped), meta["Arn"], record.material_id)
    )


def _payloads(algorithm: str, message: bytes) -> list[tuple[bytes, str]]:
    """Every (message, MessageType) an algorithm takes that stands for ``message``."""
    if algorithm.startswith(("ED25519", "ML_DSA")):
        return [(message, "RAW")]
    return [(message, "RAW"), (hashlib.new("sha" + algorithm[-3:], message).digest(), "DIGEST")]


@pytest.mark.parametrize("spec", SPECS)
def test_each_spec_signs_and_verifies(
    svc: KmsService, caller: Caller, keystore: SoftwareKeyStore, spec: str
) -> None:
    meta = _signing_key(svc, caller, spec)
    algorithms = list(keyspecs.algorithms(spec, "SIGN_VERIFY"))
    assert (meta["KeySpec"], meta["CustomerMasterKeySpec"]) == (spec, spec)
    assert meta["KeyUsage"] == "SIGN_VERIFY"
    assert meta["SigningAlgorithms"] == algorithms
    assert "EncryptionAlgorithms" not in meta
    private = _private(svc, keystore, meta)
    public = _call(svc, caller, "GetPublicKey", KeyId=meta["KeyId"])
    assert public["PublicKey"] == public_der_of(private)
    assert public["SigningAlgorithms"] == algorithms
    served = [a for a in algorithms if a not in keyspecs.UNSUPPORTED_ALGORITHMS]
    assert served
    for algorithm in served:
        for message, kind in _payloads(algorithm, b"message"):
            made = _call(
                svc, caller, "Sign", KeyId=meta["KeyId"], Message=message,
                MessageType=kind, SigningAlgorithm=algorithm,
            )  # fmt: skip
            assert (made["KeyId"], made["SigningAlgorithm"]) == (meta["Arn"], algorithm)
            signing.verify(private, algorithm, b"message", "RAW", signature=made["Signature"])
            checked = _call(
                svc, caller, "Verify", KeyId=meta["Arn"], Message=message, MessageType=kind,
                SigningAlgorithm=algorithm, Signature=made["Signature"],
            )  # fmt: skip
            assert checked == {
                "KeyId": meta["Arn"], "SignatureValid": True, "SigningAlgorithm": algorithm,
            }  # fmt: skip
            with pytest.raises(KMSInvalidSignatureException):
                _call(
                    svc, caller, "Verify", KeyId=meta["Arn"], Message=message, MessageType=kind,
                    SigningAlgorithm=algorithm, Signature=made["Signature"][:-1],
                )  # fmt: skip


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
    with pytest.raises(ValidationException) as mu:
        _call(svc, caller, "Sign", Message=b"m" * 64, MessageType="EXTERNAL_MU", **base)
    assert str(mu.value) == "Message type EXTERNAL_MU is incompatible with algorithm ECDSA_SHA_256."


def _error(svc: KmsService, caller: Caller, op: str, **params: Any) -> tuple[str, str]:
    with pytest.raises(ServiceError) as info:
        _call(svc, caller, op, **params)
    return info.value.code, str(info.value)


def test_ed25519_message_type_rules_and_ed25519ph(svc: KmsService, caller: Caller) -> None:
    key_id = _signing_key(svc, caller, "ECC_NIST_EDWARDS25519")["KeyId"]
    pure = {"KeyId": key_id, "SigningAlgorithm": "ED25519_SHA_512"}
    ph = {"KeyId": key_id, "SigningAlgorithm": "ED25519_PH_SHA_512"}
    digest = hashlib.sha512(b"m").digest()
    unsupported = keyspecs.UNSUPPORTED_ALGORITHMS["ED25519_PH_SHA_512"]
    for op in ("Sign", "Verify"):
        extra = {"Signature": b"s" * 64} if op == "Verify" else {}
        assert _error(svc, caller, op, Message=digest, MessageType="DIGEST", **pure, **extra) == (
            "ValidationException",
            "Message type DIGEST is incompatible with algorithm ED25519_SHA_512.",
        )
        assert _error(svc, caller, op, Message=b"m", **ph, **extra) == (
            "ValidationException",
            "Message type RAW is incompatible with algorithm ED25519_PH_SHA_512.",
        )
        assert _error(svc, caller, op, Message=b"m" * 32, MessageType="DIGEST", **ph, **extra) == (
            "ValidationException",
            "Digest is invalid length for algorithm ED25519_PH_SHA_512.",
        )
        assert _error(svc, caller, op, Message=digest, MessageType="DIGEST", **ph, **extra) == (
            "UnsupportedOperationException",
            unsupported,
        )
        assert _error(
            svc, caller, op, Message=digest, MessageType="DIGEST", DryRun=True, **ph, **extra
        ) == ("UnsupportedOperationException", unsupported)
        mu = {"Message": b"m" * 64, "MessageType": "EXTERNAL_MU"}
        assert _error(svc, caller, op, **mu, **pure, **extra) == (
            "ValidationException",
            "Message type EXTERNAL_MU is incompatible with algorithm ED25519_SHA_512.",
        )
    assert "Ed25519ph" in unsupported


def test_ml_dsa_message_types(svc: KmsService, caller: Caller, keystore: SoftwareKeyStore) -> None:
    meta = _signing_key(svc, caller, "ML_DSA_65")
    base = {"KeyId": meta["KeyId"], "SigningAlgorithm": "ML_DSA_SHAKE_256"}
    public = _private(svc, keystore, meta).public_key()
    assert isinstance(public, mldsa.MLDSA65PublicKey)
    hasher = mldsa.MLDSAMuHasher(public)
    hasher.update(b"a large document")
    mu = hasher.finalize()
    by_mu = _call(svc, caller, "Sign", Message=mu, MessageType="EXTERNAL_MU", **base)
    public.verify(by_mu["Signature"], b"a large document")
    _call(svc, caller, "Verify", Message=b"a large document", Signature=by_mu["Signature"], **base)
    by_raw = _call(svc, caller, "Sign", Message=b"a large document", **base)["Signature"]
    _call(svc, caller, "Verify", Message=mu, MessageType="EXTERNAL_MU", Signature=by_raw, **base)
    with pytest.raises(KMSInvalidSignatureException):  # mu as a RAW message is another message
        _call(svc, caller, "Verify", Message=mu, Signature=by_mu["Signature"], **base)
    assert _error(svc, caller, "Sign", Message=mu[:32], MessageType="DIGEST", **base) == (
        "ValidationException",
        "Message type DIGEST is incompatible with algorithm ML_DSA_SHAKE_256.",
    )
    for short in (mu[:63], mu + b"x"):
        assert _error(svc, caller, "Sign", Message=short, MessageType="EXTERNAL_MU", **base) == (
            "ValidationException",
            "Digest is invalid length for algorithm ML_DSA_SHAKE_256.",
        )
    assert _error(
        svc, caller, "Sign", KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="ED25519_SHA_512"
    ) == (
        "InvalidKeyUsageException",
        "Algorithm ED25519_SHA_512 is incompatible with key spec ML_DSA_65.",
    )


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
    # SM2: AWS's answer outside the China Regions (recorded); in them, Strongroom's reason.
    with pytest.raises(UnsupportedOperationException) as info:
        _call(svc, caller, "CreateKey", KeySpec="SM2", KeyUsage="ENCRYPT_DECRYPT")
    assert info.value.message == "KeySpec SM2 is not supported in this Region"
    china = dataclasses.replace(caller, region="cn-northwest-1")
    with pytest.raises(UnsupportedOperationException, match="only in AWS's China Regions"):
        _call(svc, china, "CreateKey", KeySpec="SM2", KeyUsage="ENCRYPT_DECRYPT")


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


def _bytes(wrapped: bytes | None) -> bytes:
    assert wrapped is not None, "the material version has no bytes (deleted imported material)"
    return wrapped
