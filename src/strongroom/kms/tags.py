"""TagResource, UntagResource, ListResourceTags, and the tag rules CreateKey and ReplicateKey
share.

AWS's answers, as recorded against AWS KMS: the same tag key twice in a request is
``TagException: Duplicate tag keys``; more than 50 tags (in the request, or on the key once the
request is applied) is ``TagException: Too many tags``; a tag key beginning with ``aws:`` in any
case is ``TagException: Tags beginning with aws: are reserved``. Tag keys are case-sensitive, so
``Team`` and ``team`` are two keys. UntagResource naming an ``aws:`` key gets the same
``TagException`` as TagResource (no such tag can exist; AWS's answer here is unconfirmed, see
docs/api-coverage.md).
"""

from __future__ import annotations

from typing import Any

from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.errors import TagException
from strongroom.kms.paging import page
from strongroom.kms.resolve import authorized_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import require_state

__all__ = [
    "MAX_TAGS",
    "check_tag_count",
    "check_tags",
    "list_resource_tags",
    "tag_resource",
    "untag_resource",
]

MAX_TAGS = 50
_RESERVED = "Tags beginning with aws: are reserved"


def _reserved(tag_key: str) -> bool:
    return tag_key.lower().startswith("aws:")


def check_tags(tags: list[dict[str, str]]) -> dict[str, str]:
    """Validated ``[{TagKey, TagValue}]`` as a dict: no key twice, at most 50, none reserved."""
    keys = [tag["TagKey"] for tag in tags]
    if len(set(keys)) < len(keys):
        raise TagException("Duplicate tag keys")
    check_tag_count(len(keys))
    if any(_reserved(key) for key in keys):
        raise TagException(_RESERVED)
    return {tag["TagKey"]: tag["TagValue"] for tag in tags}


def check_tag_count(count: int) -> None:
    if count > MAX_TAGS:
        raise TagException("Too many tags")


def tag_resource(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = authorized_key(svc, caller, p["KeyId"], action="TagResource", allow_alias=False, params=p)
    require_state(key, Action.TAG_RESOURCE)
    tags = check_tags(p["Tags"])
    existing = svc.keys.read.get_tags(key.account, key.region, key.key_id)
    check_tag_count(len(existing.keys() | tags.keys()))
    svc.keys.put_tags(key.account, key.region, key.key_id, tags)
    return {}


def untag_resource(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = authorized_key(
        svc, caller, p["KeyId"], action="UntagResource", allow_alias=False, params=p
    )
    require_state(key, Action.UNTAG_RESOURCE)
    if any(_reserved(name) for name in p["TagKeys"]):
        raise TagException(_RESERVED)
    svc.keys.delete_tags(key.account, key.region, key.key_id, list(p["TagKeys"]))
    return {}


def list_resource_tags(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = authorized_key(
        svc, caller, p["KeyId"], action="ListResourceTags", allow_alias=False, params=p
    )
    tags = sorted(svc.keys.read.get_tags(key.account, key.region, key.key_id).items())

    def fetch(after: str | None, limit: int) -> list[tuple[str, str]]:
        return [t for t in tags if after is None or t[0] > after][:limit]

    rows, paging = page(fetch, lambda t: t[0], p, listing="tags", default=50, maximum=50)
    return {"Tags": [{"TagKey": k, "TagValue": v} for k, v in rows], **paging}
