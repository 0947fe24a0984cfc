"""KeyId resolution over HTTP: which operations take which forms (id, key ARN, alias name, alias
ARN), and AWS's NotFoundException messages for each kind of bad reference (kms-spec.md 3.1-3.3,
2.3; section 19 item 8)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.expect import aws_error
from tests.integration.server import Server

UNKNOWN = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def key(session_kms: Any) -> dict[str, str]:
    meta = session_kms.create_key()["KeyMetadata"]
    alias = f"alias/ids-{uuid.uuid4().hex[:12]}"
    session_kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    prefix = meta["Arn"].rsplit(":", 1)[0]
    return {
        "id": meta["KeyId"],
        "arn": meta["Arn"],
        "alias": alias,
        "alias_arn": f"{prefix}:{alias}",
        "prefix": prefix,  # arn:aws:kms:us-east-1:000000000000
        "account": meta["AWSAccountId"],
    }


def _alias_ok_calls(kms: Any, blob: bytes) -> dict[str, Callable[[str], Any]]:
    """Operations that accept all four KeyId forms, each returning the key ARN it acted on."""
    return {
        "DescribeKey": lambda k: kms.describe_key(KeyId=k)["KeyMetadata"]["Arn"],
        "Encrypt": lambda k: kms.encrypt(KeyId=k, Plaintext=b"x")["KeyId"],
        "Decrypt": lambda k: kms.decrypt(KeyId=k, CiphertextBlob=blob)["KeyId"],
        "GenerateDataKey": lambda k: kms.generate_data_key(KeyId=k, NumberOfBytes=8)["KeyId"],
        "GenerateDataKeyWithoutPlaintext": lambda k: kms.generate_data_key_without_plaintext(
            KeyId=k, KeySpec="AES_128"
        )["KeyId"],
        "ReEncrypt.Source": lambda k: kms.re_encrypt(
            CiphertextBlob=blob, SourceKeyId=k, DestinationKeyId=blob_key(kms, blob)
        )["SourceKeyId"],
        "ReEncrypt.Destination": lambda k: kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=k)[
            "KeyId"
        ],
    }


def blob_key(kms: Any, blob: bytes) -> str:
    return str(kms.decrypt(CiphertextBlob=blob)["KeyId"])


@pytest.mark.parametrize("form", ["id", "arn", "alias", "alias_arn"])
def test_alias_accepting_operations_take_every_form(
    kms: Any, key: dict[str, str], form: str
) -> None:
    blob = kms.encrypt(KeyId=key["id"], Plaintext=b"forms")["CiphertextBlob"]
    for name, call in _alias_ok_calls(kms, blob).items():
        assert call(key[form]) == key["arn"], name


def test_describe_key_returns_bare_id_and_arn(kms: Any, key: dict[str, str]) -> None:
    meta = kms.describe_key(KeyId=key["alias_arn"])["KeyMetadata"]
    assert (meta["KeyId"], meta["Arn"]) == (key["id"], key["arn"])


# Operations that take only a key id or key ARN (kms-spec.md 3.2): an alias is NotFoundException.
ID_ONLY: dict[str, dict[str, Any]] = {
    "enable_key": {},
    "disable_key": {},
    "schedule_key_deletion": {"PendingWindowInDays": 7},
    "cancel_key_deletion": {},
    "update_key_description": {"Description": "d"},
    "get_key_policy": {"PolicyName": "default"},
    "list_key_policies": {},
    "tag_resource": {"Tags": [{"TagKey": "k", "TagValue": "v"}]},
    "untag_resource": {"TagKeys": ["k"]},
    "list_resource_tags": {},
    "list_aliases": {},
}


@pytest.mark.parametrize("operation", sorted(ID_ONLY))
@pytest.mark.parametrize("form", ["alias", "alias_arn"])
def test_id_only_operations_reject_aliases(
    kms: Any, key: dict[str, str], operation: str, form: str
) -> None:
    call = getattr(kms, operation)
    got = aws_error(call, KeyId=key[form], **ID_ONLY[operation])
    assert got == ("NotFoundException", f"Invalid keyId '{key[form]}'", 400)
    assert kms.describe_key(KeyId=key["id"])["KeyMetadata"]["KeyState"] == "Enabled"


@pytest.mark.parametrize("operation", sorted(ID_ONLY))
def test_id_only_operations_take_id_and_arn(kms: Any, operation: str) -> None:
    meta = kms.create_key()["KeyMetadata"]
    call = getattr(kms, operation)
    for value in (meta["KeyId"], meta["Arn"]):
        if operation == "cancel_key_deletion":
            kms.schedule_key_deletion(KeyId=meta["KeyId"], PendingWindowInDays=7)
        call(KeyId=value, **ID_ONLY[operation])
        if operation == "schedule_key_deletion":
            kms.cancel_key_deletion(KeyId=meta["KeyId"])


BAD_REFERENCE_CALLS: dict[str, dict[str, Any]] = {
    "describe_key": {},
    "encrypt": {"Plaintext": b"x"},
    "tag_resource": {"Tags": [{"TagKey": "k", "TagValue": "v"}]},
}


@pytest.mark.parametrize("operation", sorted(BAD_REFERENCE_CALLS))
def test_bad_references(kms: Any, key: dict[str, str], operation: str) -> None:
    params = BAD_REFERENCE_CALLS[operation]
    call = getattr(kms, operation)
    prefix, other_region = key["prefix"], key["arn"].replace("us-east-1", "eu-west-1")
    other_account = f"arn:aws:kms:us-east-1:111122223333:key/{UNKNOWN}"
    expected = {
        "fake-key-id": "Invalid keyId 'fake-key-id'",
        UNKNOWN: f"Key '{prefix}:key/{UNKNOWN}' does not exist",
        f"{prefix}:key/{UNKNOWN}": f"Key '{prefix}:key/{UNKNOWN}' does not exist",
        other_account: f"Key '{other_account}' does not exist",
        other_region: "Invalid arn eu-west-1",
    }
    if operation != "tag_resource":
        missing = f"Alias {prefix}:alias/missing is not found."
        expected["alias/missing"] = missing
        expected[f"{prefix}:alias/missing"] = missing
    for value, message in expected.items():
        assert aws_error(call, KeyId=value, **params) == ("NotFoundException", message, 400), value


def test_keys_are_per_region(dev: Server, key: dict[str, str]) -> None:
    west = dev.client(region="eu-west-1")
    account = key["account"]
    assert aws_error(west.describe_key, KeyId=key["id"]) == (
        "NotFoundException",
        f"Key 'arn:aws:kms:eu-west-1:{account}:key/{key['id']}' does not exist",
        400,
    )
    assert aws_error(west.encrypt, KeyId=key["alias"], Plaintext=b"x") == (
        "NotFoundException",
        f"Alias arn:aws:kms:eu-west-1:{account}:{key['alias']} is not found.",
        400,
    )
    made = west.create_key()["KeyMetadata"]
    assert made["Arn"] == f"arn:aws:kms:eu-west-1:{account}:key/{made['KeyId']}"
    assert west.encrypt(KeyId=made["Arn"], Plaintext=b"x")["KeyId"] == made["Arn"]


def test_decrypt_in_another_region_does_not_find_the_key(dev: Server, kms: Any) -> None:
    blob = kms.encrypt(KeyId=kms.create_key()["KeyMetadata"]["KeyId"], Plaintext=b"x")
    west = dev.client(region="eu-west-1")
    assert aws_error(west.decrypt, CiphertextBlob=blob["CiphertextBlob"]) == (
        "InvalidCiphertextException",
        "",
        400,
    )


def test_empty_key_id_is_a_validation_error(unchecked_kms: Any) -> None:
    assert aws_error(unchecked_kms.describe_key, KeyId="") == (
        "ValidationException",
        "1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
        400,
    )
