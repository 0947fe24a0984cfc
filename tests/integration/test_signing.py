"""Asymmetric signing keys over HTTP (kms-spec.md 4.2, 4.3, 17.3, section 19 items 15 and 17): a
production-mode server, boto3 and the AWS CLI. Every signature is also verified offline with
``cryptography`` and the public key from GetPublicKey, so the server is proved to make real
signatures, and a locally made signature is verified by the server."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import (  # noqa: TID251 -- independent check
    ec,
    padding,
    rsa,
)

from tests.integration.expect import aws_error
from tests.integration.server import Server, initialised_server, raw_material, raw_post

RSA = [
    "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
]  # fmt: skip
SPECS = {
    "ECC_NIST_P256": ["ECDSA_SHA_256"],
    "ECC_NIST_P384": ["ECDSA_SHA_384"],
    "ECC_NIST_P521": ["ECDSA_SHA_512"],
    "ECC_SECG_P256K1": ["ECDSA_SHA_256"],
    "RSA_2048": RSA,
    "RSA_3072": RSA,
    "RSA_4096": RSA,
}
HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
USAGE = "InvalidKeyUsageException"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("signing") / "data")
    yield started
    started.stop()


def new_signing_key(server: Server, spec: str = "ECC_NIST_P256") -> dict[str, Any]:
    created = server.client().create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")
    meta: dict[str, Any] = created["KeyMetadata"]
    return meta


def _padding(algorithm: str) -> padding.AsymmetricPadding:
    chosen = HASHES[algorithm[-3:]]
    if algorithm.startswith("RSASSA_PSS_"):
        return padding.PSS(mgf=padding.MGF1(chosen), salt_length=chosen.digest_size)
    return padding.PKCS1v15()


def offline_verify(public_der: bytes, algorithm: str, message: bytes, signature: bytes) -> None:
    public = serialization.load_der_public_key(public_der)
    chosen = HASHES[algorithm[-3:]]
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, message, _padding(algorithm), chosen)
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(signature, message, ec.ECDSA(chosen))


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_every_spec_and_algorithm_makes_real_signatures(server: Server, spec: str) -> None:
    kms, meta = server.client(), new_signing_key(server, spec)
    assert meta["SigningAlgorithms"] == SPECS[spec]
    public = kms.get_public_key(KeyId=meta["KeyId"])
    assert (public["KeyId"], public["KeySpec"], public["CustomerMasterKeySpec"]) == (
        meta["Arn"], spec, spec,
    )  # fmt: skip
    assert (public["KeyUsage"], public["SigningAlgorithms"]) == ("SIGN_VERIFY", SPECS[spec])
    message = b"signed by strongroom " + spec.encode()
    for algorithm in SPECS[spec]:
        digest = hashlib.new("sha" + algorithm[-3:], message).digest()
        for payload, kind in ((message, "RAW"), (digest, "DIGEST")):
            made = kms.sign(
                KeyId=meta["KeyId"], Message=payload, MessageType=kind, SigningAlgorithm=algorithm
            )
            assert (made["KeyId"], made["SigningAlgorithm"]) == (meta["Arn"], algorithm)
            offline_verify(public["PublicKey"], algorithm, message, made["Signature"])
            checked = kms.verify(
                KeyId=meta["Arn"], Message=payload, MessageType=kind,
                SigningAlgorithm=algorithm, Signature=made["Signature"],
            )  # fmt: skip
            assert (checked["KeyId"], checked["SignatureValid"]) == (meta["Arn"], True)
            assert checked["SigningAlgorithm"] == algorithm


@pytest.mark.parametrize(
    ("spec", "algorithm"),
    [("ECC_NIST_P384", "ECDSA_SHA_384"), ("RSA_2048", RSA[1]), ("RSA_2048", RSA[5])],
)
def test_a_locally_made_signature_verifies_in_strongroom(
    server: Server, spec: str, algorithm: str
) -> None:
    """The other way round: the stored private key (unwrapped here) signs with ``cryptography``;
    Strongroom verifies, and rejects the signature for another message."""
    kms, meta = server.client(), new_signing_key(server, spec)
    private = serialization.load_der_private_key(raw_material(server, meta), password=None)
    chosen = HASHES[algorithm[-3:]]
    if isinstance(private, rsa.RSAPrivateKey):
        signature = private.sign(b"local", _padding(algorithm), chosen)
    else:
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        signature = private.sign(b"local", ec.ECDSA(chosen))
    params = {"KeyId": meta["KeyId"], "SigningAlgorithm": algorithm, "Signature": signature}
    assert kms.verify(Message=b"local", **params)["SignatureValid"] is True
    assert aws_error(kms.verify, Message=b"other", **params)[0] == "KMSInvalidSignatureException"


def test_tampered_signature_is_kms_invalid_signature_without_message(server: Server) -> None:
    kms, meta = server.client(), new_signing_key(server, "RSA_2048")
    params = {"KeyId": meta["KeyId"], "Message": b"pay 10", "SigningAlgorithm": RSA[0]}
    signature = kms.sign(**params)["Signature"]
    tampered = signature[:-1] + bytes([signature[-1] ^ 1])
    code, _, status = aws_error(kms.verify, Signature=tampered, **params)
    assert (code, status) == ("KMSInvalidSignatureException", 400)
    code, _, _ = aws_error(kms.verify, Signature=signature, **{**params, "Message": b"pay 11"})
    assert code == "KMSInvalidSignatureException"
    body = {
        "KeyId": meta["KeyId"],
        "Message": base64.b64encode(b"pay 10").decode(),
        "SigningAlgorithm": RSA[0],
        "Signature": base64.b64encode(tampered).decode(),
    }
    reply = raw_post(server, "TrentService.Verify", json.dumps(body).encode())
    assert reply.error == (400, "KMSInvalidSignatureException", None)


def test_digest_length_algorithm_and_usage_errors(server: Server) -> None:
    kms, meta = server.client(), new_signing_key(server)
    code, message, _ = aws_error(
        kms.sign, KeyId=meta["KeyId"], Message=b"x" * 33, MessageType="DIGEST",
        SigningAlgorithm="ECDSA_SHA_256",
    )  # fmt: skip
    assert (code, message) == (
        "ValidationException", "Digest is invalid length for algorithm ECDSA_SHA_256.",
    )  # fmt: skip
    assert aws_error(kms.sign, KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_384")[
        :2
    ] == (USAGE, "Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256.")
    assert aws_error(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"p")[:2] == (
        USAGE, f"{meta['Arn']} key usage is SIGN_VERIFY which is not valid for Encrypt.",
    )  # fmt: skip
    assert aws_error(
        kms.generate_mac, KeyId=meta["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256"
    )[:2] == (USAGE, f"{meta['Arn']} key usage is SIGN_VERIFY which is not valid for GenerateMac.")
    symmetric = kms.create_key()["KeyMetadata"]["Arn"]
    assert aws_error(kms.sign, KeyId=symmetric, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")[
        :2
    ] == (USAGE, f"{symmetric} key usage is ENCRYPT_DECRYPT which is not valid for Sign.")


def test_describe_key_shows_the_signing_algorithms(server: Server) -> None:
    meta = new_signing_key(server, "RSA_3072")
    described = server.client().describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert (described["KeySpec"], described["KeyUsage"]) == ("RSA_3072", "SIGN_VERIFY")
    assert described["SigningAlgorithms"] == RSA
    assert "EncryptionAlgorithms" not in described


def test_sign_with_the_aws_cli(server: Server, tmp_path: Path) -> None:
    meta = new_signing_key(server, "ECC_NIST_P521")
    message = b"from the cli"
    (tmp_path / "message").write_bytes(message)
    done = server.aws(
        "kms", "sign", "--key-id", meta["KeyId"], "--signing-algorithm", "ECDSA_SHA_512",
        "--message", f"fileb://{tmp_path / 'message'}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["KeyId"], out["SigningAlgorithm"]) == (meta["Arn"], "ECDSA_SHA_512")
    public = server.client().get_public_key(KeyId=meta["KeyId"])["PublicKey"]
    offline_verify(public, "ECDSA_SHA_512", message, base64.b64decode(out["Signature"]))
