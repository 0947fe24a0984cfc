"""The first thing a user does: create a key, encrypt, decrypt - over boto3 and the AWS CLI."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.integration.server import Server


def test_round_trip_with_boto3(prod_kms: Any) -> None:
    key = prod_kms.create_key()["KeyMetadata"]
    blob = prod_kms.encrypt(KeyId=key["KeyId"], Plaintext=b"hello")["CiphertextBlob"]
    out = prod_kms.decrypt(CiphertextBlob=blob)
    assert out["Plaintext"] == b"hello"
    assert out["KeyId"] == key["Arn"]


def test_round_trip_with_the_aws_cli(dev: Server, tmp_path: Any) -> None:
    created = json.loads(dev.aws("kms", "create-key", check=True).stdout)
    key_id = created["KeyMetadata"]["KeyId"]
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"secret data")
    encrypted = dev.aws(
        "kms",
        "encrypt",
        "--key-id",
        key_id,
        "--plaintext",
        f"fileb://{plain}",
        "--query",
        "CiphertextBlob",
        "--output",
        "text",
        check=True,
    ).stdout.strip()
    blob = tmp_path / "blob.bin"
    blob.write_bytes(base64.b64decode(encrypted))
    decrypted = json.loads(
        dev.aws("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", check=True).stdout
    )
    assert base64.b64decode(decrypted["Plaintext"]) == b"secret data"
