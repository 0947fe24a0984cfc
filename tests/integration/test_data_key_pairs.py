"""GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext over HTTP (kms-spec.md 4.1, 4.3,
7.1): a production-mode server and boto3.

Every key pair is checked with real cryptography: the private key (returned, and the one Decrypt
gives back from PrivateKeyCiphertextBlob) loads, matches the public key, and signs what the public
key verifies, or for ML-KEM, decapsulates what the public key encapsulates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import (  # noqa: TID251 -- independent check
    ec,
    ed25519,
    mlkem,
    padding,
    rsa,
)

from tests.integration.expect import aws_error
from tests.integration.server import Server, initialised_server

A = "111122223333"
CURVES = {
    "ECC_NIST_P256": "secp256r1",
    "ECC_NIST_P384": "secp384r1",
    "ECC_NIST_P521": "secp521r1",
    "ECC_SECG_P256K1": "secp256k1",
}
RSA_BITS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
ML_KEM = {"ML_KEM_768": mlkem.MLKEM768PrivateKey, "ML_KEM_1024": mlkem.MLKEM1024PrivateKey}
SUPPORTED = [*RSA_BITS, *CURVES, "ECC_NIST_EDWARDS25519", *ML_KEM]
CONTEXT = {"purpose": "data key pair", "tenant": "blue"}
USAGE = "InvalidKeyUsageException"
DENIED = "AccessDeniedException"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("data-key-pairs") / "data")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def wrapping(server: Server) -> dict[str, Any]:
    """The symmetric encryption key every pair is sealed under."""
    meta: dict[str, Any] = server.client().create_key()["KeyMetadata"]
    return meta


def public_der(private: Any) -> bytes:
    der: bytes = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der


def check_pair(spec: str, private_der: bytes, public: bytes) -> None:
    """The private key is of ``spec``, matches ``public`` and works with it."""
    private = serialization.load_der_private_key(private_der, password=None)
    assert public_der(private) == public
    loaded = serialization.load_der_public_key(public)
    message = b"signed with a data key pair " + spec.encode()
    if spec in RSA_BITS:
        assert isinstance(private, rsa.RSAPrivateKey)
        assert isinstance(loaded, rsa.RSAPublicKey)
        assert private.key_size == RSA_BITS[spec]
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        loaded.verify(private.sign(message, pss, hashes.SHA256()), message, pss, hashes.SHA256())
    elif spec in CURVES:
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        assert isinstance(loaded, ec.EllipticCurvePublicKey)
        assert private.curve.name == CURVES[spec]
        ecdsa = ec.ECDSA(hashes.SHA256())
        loaded.verify(private.sign(message, ecdsa), message, ecdsa)
    elif spec == "ECC_NIST_EDWARDS25519":
        assert isinstance(private, ed25519.Ed25519PrivateKey)
        assert isinstance(loaded, ed25519.Ed25519PublicKey)
        loaded.verify(private.sign(message), message)
    else:
        assert isinstance(private, ML_KEM[spec])
        assert isinstance(private, mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey)
        assert isinstance(loaded, mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey)
        shared, encapsulated = loaded.encapsulate()
        assert private.decapsulate(encapsulated) == shared


@pytest.mark.parametrize("spec", SUPPORTED)
def test_every_supported_spec_makes_a_working_pair(
    server: Server, wrapping: dict[str, Any], spec: str
) -> None:
    kms = server.client()
    out = kms.generate_data_key_pair(
        KeyId=wrapping["KeyId"], KeyPairSpec=spec, EncryptionContext=CONTEXT
    )
    assert (out["KeyId"], out["KeyPairSpec"]) == (wrapping["Arn"], spec)
    assert out["KeyMaterialId"] == wrapping["CurrentKeyMaterialId"]
    check_pair(spec, out["PrivateKeyPlaintext"], out["PublicKey"])
    opened = kms.decrypt(
        CiphertextBlob=out["PrivateKeyCiphertextBlob"],
        EncryptionContext=dict(reversed(CONTEXT.items())),
    )
    assert opened["Plaintext"] == out["PrivateKeyPlaintext"]
    assert (opened["KeyId"], opened["KeyMaterialId"]) == (wrapping["Arn"], out["KeyMaterialId"])
    check_pair(spec, opened["Plaintext"], out["PublicKey"])
    again = kms.generate_data_key_pair(KeyId=wrapping["Arn"], KeyPairSpec=spec)
    assert again["PublicKey"] != out["PublicKey"]  # a fresh pair every time


@pytest.mark.parametrize(
    "spec", ["RSA_2048", "ECC_NIST_P384", "ECC_NIST_EDWARDS25519", "ML_KEM_1024"]
)
def test_without_plaintext_only_the_sealed_private_key_leaves(
    server: Server, wrapping: dict[str, Any], spec: str
) -> None:
    kms = server.client()
    out = kms.generate_data_key_pair_without_plaintext(
        KeyId=wrapping["KeyId"], KeyPairSpec=spec, EncryptionContext=CONTEXT
    )
    assert "PrivateKeyPlaintext" not in out
    assert (out["KeyId"], out["KeyPairSpec"]) == (wrapping["Arn"], spec)
    assert out["KeyMaterialId"] == wrapping["CurrentKeyMaterialId"]
    opened = kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"], EncryptionContext=CONTEXT)
    check_pair(spec, opened["Plaintext"], out["PublicKey"])


def test_the_private_key_opens_only_with_its_encryption_context(
    server: Server, wrapping: dict[str, Any]
) -> None:
    kms = server.client()
    out = kms.generate_data_key_pair(
        KeyId=wrapping["KeyId"], KeyPairSpec="ECC_NIST_P256", EncryptionContext=CONTEXT
    )
    blob = out["PrivateKeyCiphertextBlob"]
    invalid = ("InvalidCiphertextException", "", 400)
    for context in ({}, {**CONTEXT, "tenant": "red"}, {"purpose": "data key pair"}):
        assert aws_error(kms.decrypt, CiphertextBlob=blob, EncryptionContext=context) == invalid
    assert aws_error(kms.decrypt, CiphertextBlob=blob) == invalid
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    assert aws_error(kms.decrypt, CiphertextBlob=blob, KeyId=other, EncryptionContext=CONTEXT)[
        0
    ] == ("IncorrectKeyException")


@pytest.mark.parametrize("spec", ["SM2", "ML_KEM_512"])
def test_specs_strongroom_cannot_serve_are_unsupported(
    server: Server, wrapping: dict[str, Any], spec: str
) -> None:
    kms = server.client()
    for call in (kms.generate_data_key_pair, kms.generate_data_key_pair_without_plaintext):
        code, message, status = aws_error(call, KeyId=wrapping["KeyId"], KeyPairSpec=spec)
        assert (code, status) == ("UnsupportedOperationException", 400)
        assert f"KeySpec {spec}" in message
        assert "not" in message


def test_key_pairs_come_only_from_symmetric_encryption_keys(server: Server) -> None:
    kms = server.client()
    rsa_key = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    hmac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    signing = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    for call, name in (
        (kms.generate_data_key_pair, "GenerateDataKeyPair"),
        (kms.generate_data_key_pair_without_plaintext, "GenerateDataKeyPairWithoutPlaintext"),
    ):
        expected = {
            rsa_key["Arn"]: "key KeySpec is RSA_2048",
            hmac_key["Arn"]: "key usage is GENERATE_VERIFY_MAC",
            signing["Arn"]: "key usage is SIGN_VERIFY",
        }
        for arn, what in expected.items():
            message = f"{arn} {what} which is not valid for {name}."
            assert aws_error(call, KeyId=arn, KeyPairSpec="RSA_2048") == (USAGE, message, 400)


def test_recipient_dry_run_and_key_state(server: Server) -> None:
    kms = server.client()
    meta = kms.create_key()["KeyMetadata"]
    recipient = {"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": b"doc"}
    code, _, _ = aws_error(
        kms.generate_data_key_pair, KeyId=meta["KeyId"], KeyPairSpec="RSA_2048", Recipient=recipient
    )
    assert code == "UnsupportedOperationException"
    dry = aws_error(
        kms.generate_data_key_pair, KeyId=meta["KeyId"], KeyPairSpec="ECC_NIST_P256", DryRun=True
    )
    assert dry == (
        "DryRunOperationException",
        "The request would have succeeded, but the DryRun option is set.",
        400,
    )
    assert aws_error(
        kms.generate_data_key_pair_without_plaintext,
        KeyId=meta["KeyId"],
        KeyPairSpec="SM2",
        DryRun=True,
    )[0] == ("UnsupportedOperationException")
    kms.disable_key(KeyId=meta["KeyId"])
    assert aws_error(
        kms.generate_data_key_pair, KeyId=meta["KeyId"], KeyPairSpec="ECC_NIST_P256"
    ) == ("DisabledException", f"{meta['Arn']} is disabled.", 400)
    missing = aws_error(kms.generate_data_key_pair, KeyId="alias/none-such", KeyPairSpec="RSA_2048")
    assert missing[0] == "NotFoundException"


def test_a_data_key_pair_spec_condition_is_enforced(server: Server) -> None:
    """A key policy lets a user make only RSA_2048 pairs (kms:DataKeyPairSpec), and only with the
    symmetric algorithm the data key operations are seen to use (kms:EncryptionAlgorithm)."""
    iam = server.client("iam")
    arn = iam.create_user(UserName="pair-maker")["User"]["Arn"]
    access = iam.create_access_key(UserName="pair-maker")["AccessKey"]
    user = server.client(access_key=access["AccessKeyId"], secret_key=access["SecretAccessKey"])
    condition = {
        "StringEquals": {
            "kms:DataKeyPairSpec": "RSA_2048",
            "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        }
    }
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": arn},
             "Action": ["kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext"],
             "Resource": "*", "Condition": condition},
        ],
    }  # fmt: skip
    key = server.client().create_key(Policy=json.dumps(policy))["KeyMetadata"]["KeyId"]
    made = user.generate_data_key_pair(KeyId=key, KeyPairSpec="RSA_2048")
    check_pair("RSA_2048", made["PrivateKeyPlaintext"], made["PublicKey"])
    user.generate_data_key_pair_without_plaintext(KeyId=key, KeyPairSpec="RSA_2048")
    for spec in ("ECC_NIST_P256", "RSA_3072"):
        code, message, status = aws_error(user.generate_data_key_pair, KeyId=key, KeyPairSpec=spec)
        assert (code, status) == (DENIED, 400)
        assert "kms:GenerateDataKeyPair" in message
    assert aws_error(user.generate_data_key, KeyId=key, KeySpec="AES_256")[0] == DENIED
