"""TagResource, UntagResource and ListResourceTags over HTTP (kms-spec.md 4.3, 1.9, 5.2;
section 19 item 25's tags part)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.expect import aws_error


@pytest.fixture
def key(kms: Any) -> dict[str, Any]:
    return dict(kms.create_key()["KeyMetadata"])


def _tags(n: int, prefix: str = "t") -> list[dict[str, str]]:
    return [{"TagKey": f"{prefix}{i:02d}", "TagValue": f"v{i}"} for i in range(n)]


def _listed(kms: Any, key_id: str) -> dict[str, str]:
    out = kms.list_resource_tags(KeyId=key_id)
    assert out["Truncated"] is False
    return {t["TagKey"]: t["TagValue"] for t in out["Tags"]}


def test_tag_list_and_overwrite(kms: Any, key: dict[str, Any]) -> None:
    kms.tag_resource(
        KeyId=key["KeyId"],
        Tags=[{"TagKey": "team", "TagValue": "core"}, {"TagKey": "env", "TagValue": ""}],
    )
    out = kms.list_resource_tags(KeyId=key["Arn"])
    assert sorted(out["Tags"], key=lambda t: t["TagKey"]) == [
        {"TagKey": "env", "TagValue": ""},
        {"TagKey": "team", "TagValue": "core"},
    ]
    assert out["Truncated"] is False
    assert "NextMarker" not in out
    kms.tag_resource(KeyId=key["Arn"], Tags=[{"TagKey": "team", "TagValue": "edge"}])
    assert _listed(kms, key["KeyId"]) == {"env": "", "team": "edge"}


def test_tags_are_case_sensitive(kms: Any, key: dict[str, Any]) -> None:
    kms.tag_resource(
        KeyId=key["KeyId"],
        Tags=[{"TagKey": "Team", "TagValue": "a"}, {"TagKey": "team", "TagValue": "b"}],
    )
    assert _listed(kms, key["KeyId"]) == {"Team": "a", "team": "b"}


def test_create_key_with_tags(kms: Any) -> None:
    key = kms.create_key(Tags=[{"TagKey": "made", "TagValue": "at-create"}])["KeyMetadata"]
    assert _listed(kms, key["KeyId"]) == {"made": "at-create"}


def test_untag(kms: Any, key: dict[str, Any]) -> None:
    kms.tag_resource(KeyId=key["KeyId"], Tags=_tags(3))
    kms.untag_resource(KeyId=key["Arn"], TagKeys=["t01"])
    assert _listed(kms, key["KeyId"]) == {"t00": "v0", "t02": "v2"}
    kms.untag_resource(KeyId=key["KeyId"], TagKeys=["absent", "t01"])  # silent success
    assert _listed(kms, key["KeyId"]) == {"t00": "v0", "t02": "v2"}


@pytest.mark.parametrize("tag_key", ["aws:x", "aws:createdBy"])
def test_aws_prefix_is_reserved(kms: Any, key: dict[str, Any], tag_key: str) -> None:
    code, _, status = aws_error(
        kms.tag_resource, KeyId=key["KeyId"], Tags=[{"TagKey": tag_key, "TagValue": "v"}]
    )
    assert (code, status) == ("TagException", 400)
    code, _, status = aws_error(kms.create_key, Tags=[{"TagKey": tag_key, "TagValue": "v"}])
    assert (code, status) == ("TagException", 400)
    assert _listed(kms, key["KeyId"]) == {}


def test_a_bad_tag_applies_none_of_the_request(kms: Any, key: dict[str, Any]) -> None:
    tags = [{"TagKey": "good", "TagValue": "v"}, {"TagKey": "aws:bad", "TagValue": "v"}]
    assert aws_error(kms.tag_resource, KeyId=key["KeyId"], Tags=tags)[0] == "TagException"
    assert _listed(kms, key["KeyId"]) == {}


def test_fifty_tags_at_most(kms: Any, key: dict[str, Any]) -> None:
    too_many = ("TagException", "Too many tags", 400)  # AWS's answer, recorded
    assert aws_error(kms.tag_resource, KeyId=key["KeyId"], Tags=_tags(51)) == too_many
    assert _listed(kms, key["KeyId"]) == {}
    kms.tag_resource(KeyId=key["KeyId"], Tags=_tags(50))
    kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "t00", "TagValue": "new"}])
    assert (
        aws_error(
            kms.tag_resource, KeyId=key["KeyId"], Tags=[{"TagKey": "one-more", "TagValue": "v"}]
        )
        == too_many
    )
    assert len(_listed(kms, key["KeyId"])) == 50
    assert aws_error(kms.create_key, Tags=_tags(51)) == too_many


def test_list_resource_tags_pagination(kms: Any, key: dict[str, Any]) -> None:
    kms.tag_resource(KeyId=key["KeyId"], Tags=_tags(5))
    seen: list[str] = []
    params: dict[str, Any] = {"KeyId": key["KeyId"], "Limit": 2}
    pages = 0
    while True:
        page = kms.list_resource_tags(**params)
        pages += 1
        assert len(page["Tags"]) <= 2
        seen += [t["TagKey"] for t in page["Tags"]]
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        params["Marker"] = page["NextMarker"]
    assert pages == 3
    assert sorted(seen) == [f"t{i:02d}" for i in range(5)]
    assert len(seen) == 5
    paginator = kms.get_paginator("list_resource_tags")
    listed = [
        t["TagKey"]
        for page in paginator.paginate(KeyId=key["Arn"], PaginationConfig={"PageSize": 1})
        for t in page["Tags"]
    ]
    assert sorted(listed) == sorted(seen)


def test_list_resource_tags_garbage_marker(kms: Any, key: dict[str, Any]) -> None:
    code, _, status = aws_error(kms.list_resource_tags, KeyId=key["KeyId"], Marker="garbage")
    assert (code, status) == ("InvalidMarkerException", 400)


def test_tags_and_key_states(kms: Any, key: dict[str, Any]) -> None:
    kms.tag_resource(KeyId=key["KeyId"], Tags=_tags(1))
    kms.disable_key(KeyId=key["KeyId"])
    kms.tag_resource(KeyId=key["KeyId"], Tags=_tags(2))  # Disabled keys can be tagged
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    pending = ("KMSInvalidStateException", f"{key['Arn']} is pending deletion.", 400)
    assert aws_error(kms.tag_resource, KeyId=key["KeyId"], Tags=_tags(3)) == pending
    assert aws_error(kms.untag_resource, KeyId=key["KeyId"], TagKeys=["t00"]) == pending
    assert _listed(kms, key["KeyId"]) == {"t00": "v0", "t01": "v1"}  # still listable


def test_tags_of_a_missing_key(kms: Any, key: dict[str, Any]) -> None:
    missing = "11111111-2222-3333-4444-555555555555"
    arn = str(key["Arn"]).replace(key["KeyId"], missing)
    not_found = ("NotFoundException", f"Key '{arn}' does not exist", 400)
    assert aws_error(kms.list_resource_tags, KeyId=missing) == not_found
    assert aws_error(kms.tag_resource, KeyId=missing, Tags=_tags(1)) == not_found
    assert aws_error(kms.untag_resource, KeyId=arn, TagKeys=["t00"]) == not_found
