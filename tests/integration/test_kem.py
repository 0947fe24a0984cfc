"""ML-KEM over HTTP (kms-spec.md 4.2, 4.3): Encapsulate and Decapsulate on a production-mode
server with boto3. Secrets are checked against ``cryptography`` both ways: a ciphertext made
offline from the public key GetPublicKey returns decapsulates in Strongroom, and Strongroom's
ciphertext decapsulates offline with the key's stored private key."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization  # noqa: TID251 -- independent check
from cryptography.hazmat.primitives.asymmetric import mlkem  # noqa: TID251 -- independent check

from tests.integration.expect import aws_error
from tests.integration.server import Server, initialised_server, raw_material, raw_post

A = "111122223333"
DENIED = "AccessDeniedException"
SIZES = {"ML_KEM_768": 1088, "ML_KEM_1024": 1568}
MLKEMPublicKey = mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey
MLKEMPrivateKey = mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("kem") / "data")
    yield started
    started.stop()


def new_key(server: Server, spec: str = "ML_KEM_768", **extra: Any) -> dict[str, Any]:
    created = server.client().create_key(KeySpec=spec, KeyUsage="ENCAPSULATE_DECAPSULATE", **extra)
    meta: dict[str, Any] = created["KeyMetadata"]
    return meta


def encapsulate(kms: Any, key_id: str, **extra: Any) -> Any:
    return kms.encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM", **extra)


def decapsulate(kms: Any, key_id: str, ciphertext: bytes, **extra: Any) -> Any:
    return kms.decapsulate(
        KeyId=key_id,
        SharedSecretCiphertextBlob=ciphertext,
        EncapsulationAlgorithm="ML_KEM",
        **extra,
    )


def refused(call: Any, key_id: str, **extra: Any) -> tuple[str, str, int]:
    return aws_error(call, KeyId=key_id, EncapsulationAlgorithm="ML_KEM", **extra)


def public_key(kms: Any, key_id: str) -> MLKEMPublicKey:
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    assert isinstance(public, mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey)
    return public


@pytest.mark.parametrize("spec", sorted(SIZES))
def test_encapsulate_and_decapsulate_agree(server: Server, spec: str) -> None:
    kms, meta = server.client(), new_key(server, spec)
    assert (meta["KeySpec"], meta["KeyUsage"]) == (spec, "ENCAPSULATE_DECAPSULATE")
    assert meta["EncapsulationAlgorithms"] == ["ML_KEM"]
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["EncapsulationAlgorithms"] == [
        "ML_KEM"
    ]
    public = kms.get_public_key(KeyId=meta["KeyId"])
    assert (public["KeyUsage"], public["EncapsulationAlgorithms"]) == (
        "ENCAPSULATE_DECAPSULATE", ["ML_KEM"],
    )  # fmt: skip
    made = encapsulate(kms, meta["KeyId"])
    assert (made["KeyId"], made["EncapsulationAlgorithm"]) == (meta["Arn"], "ML_KEM")
    assert (len(made["SharedSecret"]), len(made["SharedSecretCiphertextBlob"])) == (32, SIZES[spec])
    opened = decapsulate(kms, meta["Arn"], made["SharedSecretCiphertextBlob"])
    assert (opened["KeyId"], opened["EncapsulationAlgorithm"]) == (meta["Arn"], "ML_KEM")
    assert opened["SharedSecret"] == made["SharedSecret"]
    again = encapsulate(kms, meta["Arn"])
    assert again["SharedSecret"] != made["SharedSecret"]


@pytest.mark.parametrize("spec", sorted(SIZES))
def test_a_ciphertext_made_offline_from_the_public_key_decapsulates(
    server: Server, spec: str
) -> None:
    kms, meta = server.client(), new_key(server, spec)
    secret, ciphertext = public_key(kms, meta["KeyId"]).encapsulate()
    assert decapsulate(kms, meta["KeyId"], ciphertext)["SharedSecret"] == secret


@pytest.mark.parametrize("spec", sorted(SIZES))
def test_strongroom_s_secret_is_what_the_private_key_decapsulates_offline(
    server: Server, spec: str
) -> None:
    kms, meta = server.client(), new_key(server, spec)
    made = encapsulate(kms, meta["KeyId"])
    private = serialization.load_der_private_key(raw_material(server, meta), password=None)
    assert isinstance(private, mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey)
    assert private.decapsulate(made["SharedSecretCiphertextBlob"]) == made["SharedSecret"]


@pytest.mark.parametrize("spec", sorted(SIZES))
def test_a_ciphertext_of_the_wrong_length_is_invalid(server: Server, spec: str) -> None:
    kms, meta = server.client(), new_key(server, spec)
    ciphertext = encapsulate(kms, meta["KeyId"])["SharedSecretCiphertextBlob"]
    other = "ML_KEM_1024" if spec == "ML_KEM_768" else "ML_KEM_768"
    other_ciphertext = encapsulate(kms, new_key(server, other)["KeyId"])[
        "SharedSecretCiphertextBlob"
    ]
    for bad in (ciphertext[:-1], ciphertext + b"\x00", b"\x01", other_ciphertext):
        code, _, status = refused(kms.decapsulate, meta["KeyId"], SharedSecretCiphertextBlob=bad)
        assert (code, status) == ("InvalidCiphertextException", 400)
    body = json.dumps(
        {
            "KeyId": meta["KeyId"],
            "SharedSecretCiphertextBlob": base64.b64encode(ciphertext[:-1]).decode(),
            "EncapsulationAlgorithm": "ML_KEM",
        }
    ).encode()
    assert raw_post(server, "TrentService.Decapsulate", body).error == (
        400, "InvalidCiphertextException", None,
    )  # fmt: skip


@pytest.mark.parametrize("spec", sorted(SIZES))
def test_a_tampered_ciphertext_gives_another_secret_not_an_error(server: Server, spec: str) -> None:
    """ML-KEM's implicit rejection: a ciphertext of the right length always decapsulates; a
    tampered one (or one for another key) to a pseudo-random secret, the same one each time."""
    kms, meta = server.client(), new_key(server, spec)
    made = encapsulate(kms, meta["KeyId"])
    ciphertext = made["SharedSecretCiphertextBlob"]
    for index in (0, len(ciphertext) // 2, len(ciphertext) - 1):
        tampered = ciphertext[:index] + bytes([ciphertext[index] ^ 0x10]) + ciphertext[index + 1 :]
        first = decapsulate(kms, meta["KeyId"], tampered)["SharedSecret"]
        assert len(first) == 32
        assert first != made["SharedSecret"]
        assert decapsulate(kms, meta["KeyId"], tampered)["SharedSecret"] == first
    foreign = encapsulate(kms, new_key(server, spec)["KeyId"])
    opened = decapsulate(kms, meta["KeyId"], foreign["SharedSecretCiphertextBlob"])
    assert opened["SharedSecret"] != foreign["SharedSecret"]


def test_ml_kem_512_is_refused_at_create_key(server: Server) -> None:
    code, message, status = aws_error(
        server.client().create_key, KeySpec="ML_KEM_512", KeyUsage="ENCAPSULATE_DECAPSULATE"
    )
    assert (code, status) == ("UnsupportedOperationException", 400)
    assert message == (
        "KeySpec ML_KEM_512 is not supported by Strongroom: its cryptography library offers "
        "ML-KEM-768 and ML-KEM-1024 only."
    )


def test_key_usage_errors(server: Server) -> None:
    kms = server.client()
    symmetric = kms.create_key()["KeyMetadata"]
    agreement = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    assert refused(kms.encapsulate, symmetric["KeyId"]) == (
        "InvalidKeyUsageException",
        f"{symmetric['Arn']} key usage is ENCRYPT_DECRYPT which is not valid for Encapsulate.",
        400,
    )
    assert refused(kms.decapsulate, agreement["KeyId"], SharedSecretCiphertextBlob=bytes(1088)) == (
        "InvalidKeyUsageException",
        f"{agreement['Arn']} key usage is KEY_AGREEMENT which is not valid for Decapsulate.",
        400,
    )
    meta = new_key(server)
    code, message, _ = aws_error(
        kms.sign, KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256"
    )
    assert (code, message) == (
        "InvalidKeyUsageException",
        f"{meta['Arn']} key usage is ENCAPSULATE_DECAPSULATE which is not valid for Sign.",
    )


def test_dry_run_and_key_state(server: Server) -> None:
    kms, meta = server.client(), new_key(server, "ML_KEM_1024")
    ciphertext = encapsulate(kms, meta["KeyId"])["SharedSecretCiphertextBlob"]
    dry_run = "The request would have succeeded, but the DryRun option is set."
    dry = ("DryRunOperationException", dry_run, 400)
    assert refused(kms.encapsulate, meta["KeyId"], DryRun=True) == dry
    assert (
        refused(kms.decapsulate, meta["KeyId"], SharedSecretCiphertextBlob=ciphertext, DryRun=True)
        == dry
    )
    # A DryRun with a ciphertext that could never decapsulate would not have succeeded.
    code, _, _ = refused(
        kms.decapsulate, meta["KeyId"], SharedSecretCiphertextBlob=ciphertext[:10], DryRun=True
    )
    assert code == "InvalidCiphertextException"
    kms.disable_key(KeyId=meta["KeyId"])
    disabled = ("DisabledException", f"{meta['Arn']} is disabled.", 400)
    assert refused(kms.encapsulate, meta["KeyId"]) == disabled
    assert (
        refused(kms.decapsulate, meta["KeyId"], SharedSecretCiphertextBlob=ciphertext) == disabled
    )
    kms.enable_key(KeyId=meta["KeyId"])
    assert len(decapsulate(kms, meta["KeyId"], ciphertext)["SharedSecret"]) == 32


def test_encapsulate_and_decapsulate_are_separate_permissions(server: Server) -> None:
    """kms:Encapsulate lets a user make secrets for the key; only kms:Decapsulate opens them."""
    iam = server.client("iam")
    arn = str(iam.create_user(UserName="kem-sender")["User"]["Arn"])
    access = iam.create_access_key(UserName="kem-sender")["AccessKey"]
    sender = server.client(
        "kms", access_key=access["AccessKeyId"], secret_key=access["SecretAccessKey"]
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": arn},
                "Action": "kms:Encapsulate",
                "Resource": "*",
            },
        ],
    }
    meta = new_key(server, Policy=json.dumps(policy))
    made = encapsulate(sender, meta["Arn"])
    code, message, _ = refused(
        sender.decapsulate,
        meta["Arn"],
        SharedSecretCiphertextBlob=made["SharedSecretCiphertextBlob"],
    )
    assert code == DENIED
    assert message == (
        f"User: {arn} is not authorized to perform: kms:Decapsulate on resource: {meta['Arn']} "
        "because no identity-based policy allows the kms:Decapsulate action"
    )
    # A grant for Decapsulate opens it.
    root = server.client()
    grant = root.create_grant(KeyId=meta["KeyId"], GranteePrincipal=arn, Operations=["Decapsulate"])
    opened = decapsulate(
        sender, meta["Arn"], made["SharedSecretCiphertextBlob"], GrantTokens=[grant["GrantToken"]]
    )
    assert opened["SharedSecret"] == made["SharedSecret"]
