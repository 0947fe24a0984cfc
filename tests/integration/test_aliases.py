"""CreateAlias, UpdateAlias, DeleteAlias and ListAliases over HTTP (kms-spec.md 3.1-3.3, 1.9, 5.2;
section 19 items 14 and 25)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest

from tests.integration.expect import aws_error
from tests.integration.server import Server


def _name() -> str:
    return f"alias/t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def key(kms: Any) -> dict[str, Any]:
    return dict(kms.create_key()["KeyMetadata"])


@pytest.fixture
def isolated(dev: Server) -> Any:
    """A client in a region nobody else uses, so ListAliases sees only this test's aliases."""
    for region in ("ap-south-1", "ap-south-2", "ca-central-1", "sa-east-1", "af-south-1"):
        client = dev.client(region=region)
        if not client.list_aliases()["Aliases"]:
            return client
    raise AssertionError("no empty region left for an isolated alias test")


def _alias_arn(key: dict[str, Any], name: str) -> str:
    return str(key["Arn"]).rsplit(":", 1)[0] + ":" + name


def _aliases_of(kms: Any, key_id: str) -> list[dict[str, Any]]:
    return list(kms.list_aliases(KeyId=key_id)["Aliases"])


def test_create_alias_and_list_its_fields(kms: Any, key: dict[str, Any]) -> None:
    name = _name()
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=5)
    assert kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])["ResponseMetadata"]
    [entry] = _aliases_of(kms, key["KeyId"])
    assert set(entry) == {"AliasName", "AliasArn", "TargetKeyId", "CreationDate", "LastUpdatedDate"}
    assert entry["AliasName"] == name
    assert entry["AliasArn"] == _alias_arn(key, name)
    assert entry["TargetKeyId"] == key["KeyId"]
    assert entry["CreationDate"] >= before
    assert entry["LastUpdatedDate"] >= entry["CreationDate"]


def test_create_alias_by_key_arn(kms: Any, key: dict[str, Any]) -> None:
    name = _name()
    kms.create_alias(AliasName=name, TargetKeyId=key["Arn"])
    assert kms.encrypt(KeyId=name, Plaintext=b"x")["KeyId"] == key["Arn"]


def test_alias_must_start_with_the_prefix(kms: Any, key: dict[str, Any]) -> None:
    message = (
        'Alias must start with the prefix "alias/". Please see '
        "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
    )
    got = aws_error(kms.create_alias, AliasName="foo", TargetKeyId=key["KeyId"])
    assert got == ("ValidationException", message, 400)


def test_duplicate_alias(kms: Any, key: dict[str, Any]) -> None:
    name = _name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    assert aws_error(kms.create_alias, AliasName=name, TargetKeyId=other) == (
        "AlreadyExistsException",
        f"An alias with the name {_alias_arn(key, name)} already exists",
        400,
    )
    assert _aliases_of(kms, other) == []


@pytest.mark.parametrize("operation", ["create_alias", "update_alias", "delete_alias"])
def test_aws_namespace_is_reserved(kms: Any, key: dict[str, Any], operation: str) -> None:
    params = {"AliasName": "alias/aws/x"}
    if operation != "delete_alias":
        params["TargetKeyId"] = key["KeyId"]
    code, _, status = aws_error(getattr(kms, operation), **params)
    assert (code, status) == ("NotAuthorizedException", 400)
    assert _aliases_of(kms, key["KeyId"]) == []


def test_only_the_aws_slash_prefix_is_reserved(kms: Any, key: dict[str, Any]) -> None:
    """The reserved prefix is ``alias/aws/``: ``alias/aws`` and ``alias/awsome`` are ordinary."""
    for name in ("alias/aws", f"alias/awsome-{uuid.uuid4().hex[:8]}"):
        kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
        assert kms.encrypt(KeyId=name, Plaintext=b"x")["KeyId"] == key["Arn"]
        kms.delete_alias(AliasName=name)


def test_alias_cannot_target_an_alias(kms: Any, key: dict[str, Any]) -> None:
    name = _name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    for target in (name, _alias_arn(key, name)):
        got = aws_error(kms.create_alias, AliasName=_name(), TargetKeyId=target)
        assert got == ("ValidationException", "Aliases must refer to keys. Not aliases", 400)
        got = aws_error(kms.update_alias, AliasName=name, TargetKeyId=target)
        assert got == ("ValidationException", "Aliases must refer to keys. Not aliases", 400)


def test_create_alias_for_a_missing_key(kms: Any, key: dict[str, Any]) -> None:
    missing = "11111111-2222-3333-4444-555555555555"
    got = aws_error(kms.create_alias, AliasName=_name(), TargetKeyId=missing)
    arn_prefix = str(key["Arn"]).rsplit(":", 1)[0]
    assert got == ("NotFoundException", f"Key '{arn_prefix}:key/{missing}' does not exist", 400)


def test_update_alias_moves_it(kms: Any, key: dict[str, Any]) -> None:
    name = _name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    [before] = _aliases_of(kms, key["KeyId"])
    assert kms.encrypt(KeyId=name, Plaintext=b"x")["KeyId"] == key["Arn"]
    new = kms.create_key()["KeyMetadata"]
    kms.update_alias(AliasName=name, TargetKeyId=new["Arn"])
    assert kms.encrypt(KeyId=name, Plaintext=b"x")["KeyId"] == new["Arn"]
    assert kms.describe_key(KeyId=_alias_arn(key, name))["KeyMetadata"]["Arn"] == new["Arn"]
    assert _aliases_of(kms, key["KeyId"]) == []
    [after] = _aliases_of(kms, new["KeyId"])
    assert after["TargetKeyId"] == new["KeyId"]
    assert after["CreationDate"] == before["CreationDate"]
    assert after["LastUpdatedDate"] >= before["LastUpdatedDate"]


def test_update_alias_errors(kms: Any, key: dict[str, Any]) -> None:
    name = _name()
    assert aws_error(kms.update_alias, AliasName=name, TargetKeyId=key["KeyId"]) == (
        "NotFoundException",
        f"Alias {_alias_arn(key, name)} is not found.",
        400,
    )
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    doomed = kms.create_key()["KeyMetadata"]
    kms.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
    assert aws_error(kms.update_alias, AliasName=name, TargetKeyId=doomed["KeyId"]) == (
        "KMSInvalidStateException",
        f"{doomed['Arn']} is pending deletion.",
        400,
    )
    # Succeeds when the *current* target is the one pending deletion (kms-spec.md 5.2 note 10).
    kms.update_alias(AliasName=name, TargetKeyId=key["KeyId"])


def test_update_alias_away_from_a_key_pending_deletion(kms: Any, key: dict[str, Any]) -> None:
    name = _name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    new = kms.create_key()["KeyMetadata"]
    kms.update_alias(AliasName=name, TargetKeyId=new["KeyId"])
    assert kms.encrypt(KeyId=name, Plaintext=b"x")["KeyId"] == new["Arn"]


def test_create_alias_on_a_key_pending_deletion(kms: Any, key: dict[str, Any]) -> None:
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert aws_error(kms.create_alias, AliasName=_name(), TargetKeyId=key["KeyId"]) == (
        "KMSInvalidStateException",
        f"{key['Arn']} is pending deletion.",
        400,
    )


def test_delete_alias(kms: Any, key: dict[str, Any]) -> None:
    name = _name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    kms.delete_alias(AliasName=name)
    assert _aliases_of(kms, key["KeyId"]) == []
    not_found = ("NotFoundException", f"Alias {_alias_arn(key, name)} is not found.", 400)
    assert aws_error(kms.encrypt, KeyId=name, Plaintext=b"x") == not_found
    assert aws_error(kms.delete_alias, AliasName=name) == not_found
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])  # the name is free again


def test_delete_alias_of_a_disabled_key(kms: Any, key: dict[str, Any]) -> None:
    name = _name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    kms.disable_key(KeyId=key["KeyId"])
    kms.delete_alias(AliasName=name)
    assert _aliases_of(kms, key["KeyId"]) == []


def test_list_aliases_by_key_id_or_arn(kms: Any, key: dict[str, Any]) -> None:
    names = sorted(_name() for _ in range(3))
    for name in names:
        kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    kms.create_alias(AliasName=_name(), TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    for ref in (key["KeyId"], key["Arn"]):
        assert sorted(a["AliasName"] for a in _aliases_of(kms, ref)) == names


def test_list_aliases_pagination(isolated: Any) -> None:
    key = isolated.create_key()["KeyMetadata"]["KeyId"]
    names = sorted(_name() for _ in range(3))
    for name in names:
        isolated.create_alias(AliasName=name, TargetKeyId=key)
    seen: list[str] = []
    params: dict[str, Any] = {"Limit": 1}
    while True:
        page = isolated.list_aliases(**params)
        assert len(page["Aliases"]) <= 1
        seen += [a["AliasName"] for a in page["Aliases"]]
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        params["Marker"] = page["NextMarker"]
    assert sorted(seen) == names
    assert len(seen) == len(names)
    whole = isolated.list_aliases(Limit=100)
    assert whole["Truncated"] is False
    assert sorted(a["AliasName"] for a in whole["Aliases"]) == names
    paginated = isolated.get_paginator("list_aliases").paginate(PaginationConfig={"PageSize": 2})
    assert sorted(a["AliasName"] for page in paginated for a in page["Aliases"]) == names


def test_list_aliases_garbage_marker(kms: Any) -> None:
    for marker in ("garbage", "AAAA", "c3Ryb25ncm9vbS92MTo="):
        code, _, status = aws_error(kms.list_aliases, Marker=marker)
        assert (code, status) == ("InvalidMarkerException", 400), marker


def test_aliases_are_per_region(dev: Server, kms: Any, key: dict[str, Any]) -> None:
    name = _name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    west = dev.client(region="eu-west-2")
    west_key = west.create_key()["KeyMetadata"]
    west.create_alias(AliasName=name, TargetKeyId=west_key["KeyId"])  # same name, other region
    assert kms.encrypt(KeyId=name, Plaintext=b"x")["KeyId"] == key["Arn"]
    assert west.encrypt(KeyId=name, Plaintext=b"x")["KeyId"] == west_key["Arn"]
    [entry] = _aliases_of(west, west_key["KeyId"])
    assert entry["AliasArn"] == _alias_arn(west_key, name)
    assert ":eu-west-2:" in entry["AliasArn"]
    assert aws_error(west.create_alias, AliasName=_name(), TargetKeyId=key["KeyId"])[0] == (
        "NotFoundException"
    )


def test_deleted_key_takes_its_aliases(own_dev: Server) -> None:
    """On this module's own server: moving its clock must not disturb the shared one."""
    dev = own_dev
    kms = dev.client()
    key = kms.create_key()["KeyMetadata"]
    name = _name()
    kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert [a["AliasName"] for a in _aliases_of(kms, key["KeyId"])] == [name]
    status, _ = dev.post("/_strongroom/clock", b'{"advance_seconds": 691200}')
    assert status == 200
    assert aws_error(kms.encrypt, KeyId=name, Plaintext=b"x") == (
        "NotFoundException",
        f"Alias {_alias_arn(key, name)} is not found.",
        400,
    )
    assert name not in [a["AliasName"] for a in kms.list_aliases(Limit=100)["Aliases"]]
