"""The main flows with the AWS CLI (the ``awscli`` package) instead of boto3: encrypt/decrypt with
``fileb://``, generate-data-key, aliases, tags, and an error as the CLI shows it."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.server import Server


def run(dev: Server, *args: str) -> Any:
    """``aws kms ...`` that must succeed; its JSON output."""
    done = dev.aws("kms", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


@pytest.fixture(scope="module")
def key(session_kms: Any) -> dict[str, Any]:
    return dict(session_kms.create_key()["KeyMetadata"])


def test_encrypt_decrypt_with_files_and_context(
    dev: Server, key: dict[str, Any], tmp_path: Path
) -> None:
    plain = tmp_path / "plain.bin"
    plain.write_bytes(bytes(range(256)) * 4)
    context = "purpose=cli,team=core"
    out = run(
        dev, "encrypt", "--key-id", key["Arn"], "--plaintext", f"fileb://{plain}",
        "--encryption-context", context,
    )  # fmt: skip
    assert out["KeyId"] == key["Arn"]
    assert out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = tmp_path / "blob.bin"
    blob.write_bytes(base64.b64decode(out["CiphertextBlob"]))
    back = run(
        dev, "decrypt", "--ciphertext-blob", f"fileb://{blob}",
        "--encryption-context", "team=core,purpose=cli",
    )  # fmt: skip
    assert base64.b64decode(back["Plaintext"]) == plain.read_bytes()
    assert back["KeyId"] == key["Arn"]
    assert back["KeyMaterialId"] == key["CurrentKeyMaterialId"]
    wrong = dev.aws("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}")
    assert wrong.returncode != 0
    assert "InvalidCiphertextException" in wrong.stderr


def test_generate_data_key(dev: Server, key: dict[str, Any], tmp_path: Path) -> None:
    out = run(dev, "generate-data-key", "--key-id", key["KeyId"], "--key-spec", "AES_256")
    plaintext = base64.b64decode(out["Plaintext"])
    assert len(plaintext) == 32
    assert out["KeyMaterialId"] == key["CurrentKeyMaterialId"]
    blob = tmp_path / "data-key.bin"
    blob.write_bytes(base64.b64decode(out["CiphertextBlob"]))
    back = run(dev, "decrypt", "--ciphertext-blob", f"fileb://{blob}")
    assert base64.b64decode(back["Plaintext"]) == plaintext
    sized = run(dev, "generate-data-key-without-plaintext", "--key-id", key["Arn"],
                "--number-of-bytes", "64")  # fmt: skip
    assert "Plaintext" not in sized
    random = run(dev, "generate-random", "--number-of-bytes", "16")
    assert len(base64.b64decode(random["Plaintext"])) == 16


def test_aliases(dev: Server, key: dict[str, Any]) -> None:
    name = f"alias/cli-{uuid.uuid4().hex[:12]}"
    run(dev, "create-alias", "--alias-name", name, "--target-key-id", key["KeyId"])
    listed = run(dev, "list-aliases", "--key-id", key["KeyId"])
    assert [a["AliasName"] for a in listed["Aliases"]] == [name]
    assert listed["Aliases"][0]["TargetKeyId"] == key["KeyId"]
    assert run(dev, "describe-key", "--key-id", name)["KeyMetadata"]["Arn"] == key["Arn"]
    run(dev, "delete-alias", "--alias-name", name)
    assert run(dev, "list-aliases", "--key-id", key["KeyId"])["Aliases"] == []


def test_tags(dev: Server, key: dict[str, Any]) -> None:
    run(dev, "tag-resource", "--key-id", key["KeyId"],
        "--tags", "TagKey=team,TagValue=core", "TagKey=env,TagValue=test")  # fmt: skip
    listed = run(dev, "list-resource-tags", "--key-id", key["Arn"])
    assert sorted(listed["Tags"], key=lambda t: t["TagKey"]) == [
        {"TagKey": "env", "TagValue": "test"},
        {"TagKey": "team", "TagValue": "core"},
    ]
    run(dev, "untag-resource", "--key-id", key["KeyId"], "--tag-keys", "env")
    assert run(dev, "list-resource-tags", "--key-id", key["KeyId"])["Tags"] == [
        {"TagKey": "team", "TagValue": "core"}
    ]


def test_an_error_as_the_cli_shows_it(dev: Server) -> None:
    done = dev.aws("kms", "describe-key", "--key-id", "fake-key-id")
    assert done.returncode != 0
    assert "NotFoundException" in done.stderr
    assert "Invalid keyId 'fake-key-id'" in done.stderr
    done = dev.aws("kms", "create-alias", "--alias-name", "foo", "--target-key-id", "x")
    assert done.returncode != 0
    assert "ValidationException" in done.stderr
    assert 'Alias must start with the prefix "alias/"' in done.stderr
