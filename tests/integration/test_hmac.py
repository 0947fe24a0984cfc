"""HMAC keys over HTTP (kms-spec.md 4.2, 5.2, 17.3): a production-mode server, boto3 and the AWS
CLI. Every MAC is checked against the standard library's ``hmac`` with the key's raw material,
read from storage and unwrapped with the root key, so the server is proved to compute real HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.expect import aws_error
from tests.integration.server import Server, initialised_server, raw_material, raw_post

SPECS = {
    "HMAC_224": ("HMAC_SHA_224", hashlib.sha224, 28),
    "HMAC_256": ("HMAC_SHA_256", hashlib.sha256, 32),
    "HMAC_384": ("HMAC_SHA_384", hashlib.sha384, 48),
    "HMAC_512": ("HMAC_SHA_512", hashlib.sha512, 64),
}
USAGE = "InvalidKeyUsageException"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = initialised_server(tmp_path_factory.mktemp("hmac") / "data")
    yield started
    started.stop()


def new_hmac_key(server: Server, spec: str = "HMAC_256") -> dict[str, Any]:
    created = server.client().create_key(KeySpec=spec, KeyUsage="GENERATE_VERIFY_MAC")
    meta: dict[str, Any] = created["KeyMetadata"]
    return meta


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_round_trip_for_every_spec_is_real_hmac(server: Server, spec: str) -> None:
    algorithm, digest, size = SPECS[spec]
    kms, meta = server.client(), new_hmac_key(server, spec)
    material = raw_material(server, meta)
    assert len(material) == size
    message = b"a message to authenticate " + spec.encode()
    made = kms.generate_mac(KeyId=meta["KeyId"], Message=message, MacAlgorithm=algorithm)
    assert made["Mac"] == hmac.new(material, message, digest).digest()
    assert (made["MacAlgorithm"], made["KeyId"]) == (algorithm, meta["Arn"])
    verified = kms.verify_mac(
        KeyId=meta["Arn"], Message=message, MacAlgorithm=algorithm, Mac=made["Mac"]
    )
    assert (verified["KeyId"], verified["MacValid"], verified["MacAlgorithm"]) == (
        meta["Arn"], True, algorithm,
    )  # fmt: skip


def test_describe_key_shows_the_mac_algorithm(server: Server) -> None:
    meta = new_hmac_key(server, "HMAC_384")
    described = server.client().describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["KeySpec"] == described["CustomerMasterKeySpec"] == "HMAC_384"
    assert described["KeyUsage"] == "GENERATE_VERIFY_MAC"
    assert described["MacAlgorithms"] == ["HMAC_SHA_384"]
    assert described["KeyState"] == "Enabled"
    assert "EncryptionAlgorithms" not in described


def test_an_altered_message_is_invalid_mac_with_no_message(server: Server) -> None:
    meta = new_hmac_key(server)
    kms = server.client()
    tag = kms.generate_mac(KeyId=meta["KeyId"], Message=b"pay 10", MacAlgorithm="HMAC_SHA_256")
    code, _, status = aws_error(
        kms.verify_mac, KeyId=meta["KeyId"], Message=b"pay 99", MacAlgorithm="HMAC_SHA_256",
        Mac=tag["Mac"],
    )  # fmt: skip
    assert (code, status) == ("KMSInvalidMacException", 400)
    body = {
        "KeyId": meta["KeyId"],
        "Message": base64.b64encode(b"pay 10").decode(),
        "MacAlgorithm": "HMAC_SHA_256",
        "Mac": base64.b64encode(tag["Mac"][:-1] + b"\0").decode(),
    }
    reply = raw_post(server, "TrentService.VerifyMac", json.dumps(body).encode())
    assert reply.error == (400, "KMSInvalidMacException", None)


def test_create_key_refuses_a_missing_or_wrong_usage(server: Server) -> None:
    kms = server.client()
    code, message, _ = aws_error(kms.create_key, KeySpec="HMAC_256")
    assert code == "ValidationException"
    assert message == (
        "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
    )
    code, message, _ = aws_error(kms.create_key, KeySpec="HMAC_512", KeyUsage="ENCRYPT_DECRYPT")
    assert (code, message) == (
        "ValidationException", "KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec HMAC_512.",
    )  # fmt: skip
    assert aws_error(kms.create_key, KeySpec="SM2", KeyUsage="SIGN_VERIFY") == (
        "UnsupportedOperationException",
        "KeySpec SM2 is not supported in this Region",
        400,
    )


def test_wrong_algorithm_wrong_key_and_encrypt_with_an_hmac_key(server: Server) -> None:
    kms, meta = server.client(), new_hmac_key(server, "HMAC_224")
    assert aws_error(
        kms.generate_mac, KeyId=meta["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256"
    )[:2] == (USAGE, "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.")
    symmetric = kms.create_key()["KeyMetadata"]["Arn"]
    assert aws_error(kms.generate_mac, KeyId=symmetric, Message=b"m", MacAlgorithm="HMAC_SHA_256")[
        :2
    ] == (USAGE, f"{symmetric} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.")
    assert aws_error(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x")[:2] == (
        USAGE, f"{meta['Arn']} key usage is GENERATE_VERIFY_MAC which is not valid for Encrypt.",
    )  # fmt: skip


def test_an_alias_a_disabled_key_and_dry_run(server: Server) -> None:
    kms, meta = server.client(), new_hmac_key(server)
    kms.create_alias(AliasName="alias/hmac-dry", TargetKeyId=meta["KeyId"])
    params = {"KeyId": "alias/hmac-dry", "Message": b"m", "MacAlgorithm": "HMAC_SHA_256"}
    tag = kms.generate_mac(**params)["Mac"]
    assert aws_error(kms.generate_mac, DryRun=True, **params)[0] == "DryRunOperationException"
    assert aws_error(kms.verify_mac, Mac=tag, DryRun=True, **params)[0] == (
        "DryRunOperationException"
    )
    kms.disable_key(KeyId=meta["KeyId"])
    assert aws_error(kms.generate_mac, **params)[:2] == (
        "DisabledException", f"{meta['Arn']} is disabled.",
    )  # fmt: skip
    assert aws_error(kms.verify_mac, Mac=tag, **params)[0] == "DisabledException"
    kms.enable_key(KeyId=meta["KeyId"])
    assert kms.verify_mac(Mac=tag, **params)["MacValid"] is True


def test_a_grant_lets_a_user_without_policies_generate_macs(server: Server) -> None:
    iam = server.client("iam")
    arn = iam.create_user(UserName="mac-grantee")["User"]["Arn"]
    access = iam.create_access_key(UserName="mac-grantee")["AccessKey"]
    user = server.client(access_key=access["AccessKeyId"], secret_key=access["SecretAccessKey"])
    meta, root = new_hmac_key(server), server.client()
    params = {"KeyId": meta["Arn"], "Message": b"m", "MacAlgorithm": "HMAC_SHA_256"}
    assert aws_error(user.generate_mac, **params)[0] == "AccessDeniedException"
    root.create_grant(KeyId=meta["Arn"], GranteePrincipal=arn, Operations=["GenerateMac"])
    tag = user.generate_mac(**params)["Mac"]
    assert root.verify_mac(Mac=tag, **params)["MacValid"] is True
    assert aws_error(user.verify_mac, Mac=tag, **params)[0] == "AccessDeniedException"
    code, message, _ = aws_error(
        root.create_grant, KeyId=meta["Arn"], GranteePrincipal=arn, Operations=["Encrypt"]
    )
    assert code == "ValidationException"
    assert "Encrypt" in message


def test_generate_mac_with_the_aws_cli(server: Server, tmp_path: Path) -> None:
    meta = new_hmac_key(server, "HMAC_512")
    message = b"from the cli"
    (tmp_path / "message").write_bytes(message)  # fileb:// reads raw bytes in CLI v1 and v2
    done = server.aws(
        "kms", "generate-mac", "--key-id", meta["KeyId"], "--mac-algorithm", "HMAC_SHA_512",
        "--message", f"fileb://{tmp_path / 'message'}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    expected = hmac.new(raw_material(server, meta), message, hashlib.sha512).digest()
    assert base64.b64decode(out["Mac"]) == expected
    assert (out["KeyId"], out["MacAlgorithm"]) == (meta["Arn"], "HMAC_SHA_512")
