"""The key lifecycle over boto3 and the AWS CLI (kms-spec.md 2.4, 5, 6.4, 12, 19.3-4, 19.12-13, 25).

Create, describe by every KeyId form, disable and enable, schedule and cancel deletion, the
deletion itself once the window has passed (dev-mode time travel), key policies and ListKeys
pagination.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import orjson
import pytest

from tests.integration.expect import error_of
from tests.integration.server import Server, raw_post

DAY = 86_400
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DEV_ACCOUNT = "000000000000"
NOT_PENDING = "is not pending deletion (or pending replica deletion)."
PENDING = ("is pending deletion.", "is pending deletion (or pending replica deletion).")

DEFAULT_POLICY = """{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::%s:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}"""


def raw_metadata(server: Server, key_id: str, region: str = "us-east-1") -> dict[str, Any]:
    """DescribeKey's KeyMetadata as JSON on the wire (boto3 would turn dates into datetimes)."""
    body = orjson.dumps({"KeyId": key_id})
    reply = raw_post(server, "TrentService.DescribeKey", body, region=region)
    assert reply.status == 200
    metadata: dict[str, Any] = reply.json()["KeyMetadata"]
    return metadata


# -- CreateKey ----------------------------------------------------------------------------------


def test_create_key_metadata(dev: Server) -> None:
    before = time.time()
    reply = raw_post(dev, "TrentService.CreateKey", b"{}", region="eu-central-1")
    assert reply.status == 200
    meta = reply.json()["KeyMetadata"]
    assert set(meta) == {
        "AWSAccountId", "Arn", "CreationDate", "CurrentKeyMaterialId", "CustomerMasterKeySpec",
        "Description", "Enabled", "EncryptionAlgorithms", "KeyId", "KeyManager", "KeySpec",
        "KeyState", "KeyUsage", "MultiRegion", "Origin",
    }  # fmt: skip
    assert UUID.fullmatch(meta["KeyId"])
    assert meta["AWSAccountId"] == DEV_ACCOUNT
    assert meta["Arn"] == f"arn:aws:kms:eu-central-1:{DEV_ACCOUNT}:key/{meta['KeyId']}"
    assert isinstance(meta["CreationDate"], int | float)
    assert not isinstance(meta["CreationDate"], bool)
    assert before - 1 <= meta["CreationDate"] <= time.time() + 1
    assert meta["Enabled"] is True
    assert meta["MultiRegion"] is False
    assert {k: meta[k] for k in meta if isinstance(meta[k], str) and k not in
            ("KeyId", "Arn", "AWSAccountId", "CurrentKeyMaterialId")} == {
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "Description": "",
        "KeyManager": "CUSTOMER",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "KeyState": "Enabled",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "Origin": "AWS_KMS",
    }  # fmt: skip
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert re.fullmatch(r"[0-9a-f]{64}", meta["CurrentKeyMaterialId"])
    assert "MultiRegionConfiguration" not in meta
    assert "DeletionDate" not in meta
    assert raw_metadata(dev, meta["KeyId"], "eu-central-1") == meta


def test_create_key_with_description_and_tags(kms: Any) -> None:
    key = kms.create_key(
        Description="payroll",
        Tags=[{"TagKey": "team", "TagValue": "pay"}, {"TagKey": "env", "TagValue": ""}],
    )["KeyMetadata"]
    assert key["Description"] == "payroll"
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Description"] == "payroll"
    tags = kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]
    assert sorted((t["TagKey"], t["TagValue"]) for t in tags) == [("env", ""), ("team", "pay")]


def test_create_key_with_a_policy_stores_it_as_given(kms: Any) -> None:
    policy = (
        '{"Version":"2012-10-17",  "Statement":[{"Sid":"x","Effect":"Allow",'
        '"Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}]}'
    )
    key_id = kms.create_key(Policy=policy)["KeyMetadata"]["KeyId"]
    got = kms.get_key_policy(KeyId=key_id)
    assert got["Policy"] == policy
    assert got["PolicyName"] == "default"


def test_default_key_policy(kms: Any, key_id: str) -> None:
    got = kms.get_key_policy(KeyId=key_id)
    assert got["PolicyName"] == "default"
    assert got["Policy"] == DEFAULT_POLICY % DEV_ACCOUNT
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    assert kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"] == got["Policy"]
    listed = kms.list_key_policies(KeyId=key_id)
    assert listed["PolicyNames"] == ["default"]
    assert listed["Truncated"] is False


def test_get_key_policy_other_name(kms: Any, key_id: str) -> None:
    assert error_of(kms.get_key_policy, KeyId=key_id, PolicyName="other")[:2] == (
        400,
        "NotFoundException",
    )


def test_key_policy_needs_a_key_id_not_an_alias(kms: Any, key_id: str) -> None:
    kms.create_alias(AliasName="alias/lifecycle-policy", TargetKeyId=key_id)
    assert error_of(kms.get_key_policy, KeyId="alias/lifecycle-policy") == (
        400,
        "NotFoundException",
        "Invalid keyId 'alias/lifecycle-policy'",
    )


def test_create_hmac_key_without_key_usage(kms: Any) -> None:
    assert error_of(kms.create_key, KeySpec="HMAC_256") == (
        400,
        "ValidationException",
        "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.",
    )


# -- DescribeKey by every KeyId form ---------------------------------------------------------------


def test_describe_key_by_every_form(kms: Any, key_id: str) -> None:
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/lifecycle-forms", TargetKeyId=key_id)
    alias_arn = f"arn:aws:kms:us-east-1:{DEV_ACCOUNT}:alias/lifecycle-forms"
    for form in (key_id, arn, "alias/lifecycle-forms", alias_arn):
        meta = kms.describe_key(KeyId=form)["KeyMetadata"]
        assert (meta["KeyId"], meta["Arn"]) == (key_id, arn), form


@pytest.mark.parametrize(
    ("key_id", "message"),
    [
        ("fake-key-id", "Invalid keyId 'fake-key-id'"),
        (
            "00000000-0000-0000-0000-000000000000",
            f"Key 'arn:aws:kms:us-east-1:{DEV_ACCOUNT}:key/00000000-0000-0000-0000-000000000000' "
            "does not exist",
        ),
        (
            "alias/lifecycle-missing",
            f"Alias arn:aws:kms:us-east-1:{DEV_ACCOUNT}:alias/lifecycle-missing is not found.",
        ),
        (
            f"arn:aws:kms:eu-west-1:{DEV_ACCOUNT}:key/00000000-0000-0000-0000-000000000000",
            "Invalid arn eu-west-1",
        ),
    ],
)
def test_describe_key_not_found(kms: Any, key_id: str, message: str) -> None:
    assert error_of(kms.describe_key, KeyId=key_id) == (400, "NotFoundException", message)


# -- Enable / Disable ------------------------------------------------------------------------------


def test_disable_and_enable(kms: Any, key_id: str) -> None:
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    reply = kms.disable_key(KeyId=key_id)
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(reply) == {"ResponseMetadata"}
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (meta["KeyState"], meta["Enabled"]) == ("Disabled", False)
    for call, params in (
        (kms.encrypt, {"KeyId": key_id, "Plaintext": b"x"}),
        (kms.generate_data_key, {"KeyId": arn, "KeySpec": "AES_256"}),
    ):
        assert error_of(call, **params) == (400, "DisabledException", f"{arn} is disabled.")
    kms.disable_key(KeyId=arn)  # disabling twice is fine
    kms.update_key_description(KeyId=key_id, Description="still manageable")
    kms.enable_key(KeyId=arn)
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (meta["KeyState"], meta["Enabled"]) == ("Enabled", True)
    assert meta["Description"] == "still manageable"
    assert kms.encrypt(KeyId=key_id, Plaintext=b"x")["KeyId"] == arn


def test_disabled_key_ciphertext_cannot_be_decrypted(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    kms.disable_key(KeyId=key_id)
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    assert error_of(kms.decrypt, CiphertextBlob=blob) == (
        400,
        "DisabledException",
        f"{arn} is disabled.",
    )


def test_enable_disable_take_key_ids_only(kms: Any, key_id: str) -> None:
    kms.create_alias(AliasName="alias/lifecycle-enable", TargetKeyId=key_id)
    assert error_of(kms.disable_key, KeyId="alias/lifecycle-enable") == (
        400,
        "NotFoundException",
        "Invalid keyId 'alias/lifecycle-enable'",
    )


# -- deletion --------------------------------------------------------------------------------------


def test_schedule_deletion_window_bounds(kms: Any, key_id: str) -> None:
    for days in (6, 31):
        assert error_of(kms.schedule_key_deletion, KeyId=key_id, PendingWindowInDays=days) == (
            400,
            "ValidationException",
            "PendingWindowInDays must be between 7 and 30",
        )
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"


def test_schedule_and_cancel_deletion(dev: Server, kms: Any, key_id: str) -> None:
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/lifecycle-pending", TargetKeyId=key_id)
    before = time.time()
    scheduled = kms.schedule_key_deletion(KeyId=key_id)
    assert scheduled["KeyId"] == arn
    assert scheduled["KeyState"] == "PendingDeletion"
    assert scheduled["PendingWindowInDays"] == 30
    deletion = scheduled["DeletionDate"].timestamp()
    assert before + 30 * DAY - 5 <= deletion <= time.time() + 30 * DAY + 5

    meta = raw_metadata(dev, key_id)
    assert (meta["KeyState"], meta["Enabled"]) == ("PendingDeletion", False)
    assert meta["DeletionDate"] == pytest.approx(deletion, abs=0.01)

    status, code, message = error_of(kms.encrypt, KeyId=key_id, Plaintext=b"x")
    assert (status, code) == (400, "KMSInvalidStateException")
    assert message in {f"{arn} {text}" for text in PENDING}
    for call, params in (
        (kms.update_key_description, {"KeyId": key_id, "Description": "d"}),
        (kms.tag_resource, {"KeyId": key_id, "Tags": [{"TagKey": "k", "TagValue": "v"}]}),
        (kms.untag_resource, {"KeyId": key_id, "TagKeys": ["k"]}),
        (kms.create_alias, {"AliasName": "alias/lifecycle-late", "TargetKeyId": key_id}),
        (kms.enable_key, {"KeyId": key_id}),
        (kms.disable_key, {"KeyId": key_id}),
        (kms.schedule_key_deletion, {"KeyId": key_id}),
    ):
        status, code, message = error_of(call, **params)
        assert (status, code) == (400, "KMSInvalidStateException"), call
        assert message in {f"{arn} {text}" for text in PENDING}, call

    # Reads work in every state.
    assert kms.describe_key(KeyId="alias/lifecycle-pending")["KeyMetadata"]["KeyId"] == key_id
    assert kms.get_key_policy(KeyId=key_id)["PolicyName"] == "default"
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == []

    assert kms.cancel_key_deletion(KeyId=key_id)["KeyId"] == arn
    meta = raw_metadata(dev, key_id)
    assert (meta["KeyState"], meta["Enabled"]) == ("Disabled", False)
    assert "DeletionDate" not in meta
    assert error_of(kms.cancel_key_deletion, KeyId=key_id) == (
        400,
        "KMSInvalidStateException",
        f"{arn} {NOT_PENDING}",
    )
    kms.enable_key(KeyId=key_id)
    assert error_of(kms.cancel_key_deletion, KeyId=arn)[2] == f"{arn} {NOT_PENDING}"


def test_schedule_deletion_of_a_disabled_key(kms: Any, key_id: str) -> None:
    kms.disable_key(KeyId=key_id)
    scheduled = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert (scheduled["KeyState"], scheduled["PendingWindowInDays"]) == ("PendingDeletion", 7)
    kms.cancel_key_deletion(KeyId=key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"


def _advance(server: Server, seconds: int) -> dict[str, Any]:
    status, body = server.post("/_strongroom/clock", orjson.dumps({"advance_seconds": seconds}))
    assert status == 200, body
    result: dict[str, Any] = orjson.loads(body)
    return result


def test_key_is_gone_after_the_window(own_dev: Server) -> None:
    kms = own_dev.client()
    doomed = kms.create_key()["KeyMetadata"]
    spared = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=doomed["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    kms.create_alias(AliasName="alias/lifecycle-doomed", TargetKeyId=doomed["KeyId"])
    kms.create_alias(AliasName="alias/lifecycle-spared", TargetKeyId=spared["KeyId"])
    assert kms.schedule_key_deletion(KeyId=doomed["KeyId"])["PendingWindowInDays"] == 30

    _advance(own_dev, 29 * DAY)
    assert kms.describe_key(KeyId=doomed["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    _advance(own_dev, 2 * DAY)

    missing = f"Key '{doomed['Arn']}' does not exist"
    assert error_of(kms.describe_key, KeyId=doomed["KeyId"]) == (400, "NotFoundException", missing)
    assert error_of(kms.describe_key, KeyId=doomed["Arn"]) == (400, "NotFoundException", missing)
    assert error_of(kms.encrypt, KeyId=doomed["KeyId"], Plaintext=b"x")[:2] == (
        400,
        "NotFoundException",
    )
    assert error_of(kms.decrypt, CiphertextBlob=blob)[:2][1] in {
        "NotFoundException",
        "InvalidCiphertextException",
    }
    assert error_of(kms.cancel_key_deletion, KeyId=doomed["KeyId"])[1] == "NotFoundException"
    assert error_of(kms.describe_key, KeyId="alias/lifecycle-doomed")[1] == "NotFoundException"
    listed = {k["KeyId"] for k in kms.list_keys()["Keys"]}
    assert doomed["KeyId"] not in listed
    assert spared["KeyId"] in listed
    aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    assert "alias/lifecycle-doomed" not in aliases
    assert "alias/lifecycle-spared" in aliases
    assert kms.encrypt(KeyId=spared["KeyId"], Plaintext=b"x")["KeyId"] == spared["Arn"]


def test_cancelled_key_survives_the_window(own_dev: Server) -> None:
    kms = own_dev.client()
    key = kms.create_key()["KeyMetadata"]
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    kms.cancel_key_deletion(KeyId=key["KeyId"])
    _advance(own_dev, 8 * DAY)
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"


def test_deletion_date_follows_the_service_clock(own_dev: Server) -> None:
    kms = own_dev.client()
    now = _advance(own_dev, 0)["now"]
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    deletion = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=10)["DeletionDate"]
    assert deletion.timestamp() == pytest.approx(now + 10 * DAY, abs=10)


# -- ListKeys pagination ---------------------------------------------------------------------------


def test_list_keys_pagination(own_dev: Server) -> None:
    status, _ = own_dev.post("/_strongroom/reset")
    assert status == 200
    kms = own_dev.client(region="ap-northeast-1")
    created = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(5)}

    seen: list[str] = []
    params: dict[str, Any] = {"Limit": 1}
    while True:
        page = kms.list_keys(**params)
        assert len(page["Keys"]) <= 1
        seen += [k["KeyId"] for k in page["Keys"]]
        for entry in page["Keys"]:
            assert entry["KeyArn"].endswith(f":key/{entry['KeyId']}")
            assert entry["KeyArn"].startswith("arn:aws:kms:ap-northeast-1:")
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        params["Marker"] = page["NextMarker"]
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == created

    two = kms.list_keys(Limit=2)
    assert len(two["Keys"]) == 2
    assert two["Truncated"] is True
    everything = kms.list_keys(Limit=1000)
    assert everything["Truncated"] is False
    assert {k["KeyId"] for k in everything["Keys"]} == created
    paged = kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2})
    assert {k["KeyId"] for k in paged.build_full_result()["Keys"]} == created


@pytest.mark.parametrize("marker", ["garbage", "bm90IG91cnM=", "%%%", "c3Ryb25ncm9vbS92MTo="])
def test_list_keys_garbage_marker(kms: Any, marker: str) -> None:
    assert error_of(kms.list_keys, Marker=marker)[:2] == (400, "InvalidMarkerException")


def test_a_marker_from_another_listing_is_refused(kms: Any) -> None:
    for n in range(2):
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=f"alias/marker-{n}-{key_id}", TargetKeyId=key_id)
    aliases = kms.list_aliases(Limit=1)
    assert aliases["Truncated"] is True
    assert error_of(kms.list_keys, Marker=aliases["NextMarker"])[:2] == (
        400,
        "InvalidMarkerException",
    )


# -- the AWS CLI -----------------------------------------------------------------------------------


def test_lifecycle_with_the_aws_cli(dev: Server) -> None:
    def aws(*args: str) -> Any:
        return json.loads(dev.aws("kms", *args, check=True).stdout or "{}")

    meta = aws("create-key", "--description", "from the cli")["KeyMetadata"]
    key_id = meta["KeyId"]
    assert meta["Description"] == "from the cli"
    assert aws("describe-key", "--key-id", key_id)["KeyMetadata"]["Arn"] == meta["Arn"]
    listed = aws("list-keys")
    assert key_id in {k["KeyId"] for k in listed["Keys"]}
    assert aws("disable-key", "--key-id", key_id) == {}
    scheduled = aws("schedule-key-deletion", "--key-id", key_id, "--pending-window-in-days", "7")
    assert (scheduled["KeyId"], scheduled["KeyState"]) == (meta["Arn"], "PendingDeletion")
    assert scheduled["PendingWindowInDays"] == 7

    failed = dev.aws("kms", "encrypt", "--key-id", key_id, "--plaintext", "aGk=")
    assert failed.returncode != 0
    assert "KMSInvalidStateException" in failed.stderr
    missing = dev.aws("kms", "describe-key", "--key-id", "alias/lifecycle-cli-missing")
    assert missing.returncode != 0
    assert "NotFoundException" in missing.stderr
    assert "alias/lifecycle-cli-missing is not found." in missing.stderr
