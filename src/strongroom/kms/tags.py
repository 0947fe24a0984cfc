"""TagResource, UntagResource, ListResourceTags, and the tag rules CreateKey shares."""

from __future__ import annotations

from typing import Any

from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.errors import LimitExceededException, TagException
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


def check_tags(tags: list[dict[str, str]]) -> dict[str, str]:
    """Validated ``[{TagKey, TagValue}]`` as a dict (a repeated key keeps its last value)."""
    result: dict[str, str] = {}
    for tag in tags:
        key = tag["TagKey"]
        if key.lower().startswith("aws:"):
            raise TagException(
                f"Tag key '{key}' is not valid: tag keys beginning with 'aws:' are reserved."
            )
        result[key] = tag["TagValue"]
    return result


def check_tag_count(count: int) -> None:
    if count > MAX_TAGS:
        raise LimitExceededException(f"A KMS key can have at most {MAX_TAGS} tags.")


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
    for name in p["TagKeys"]:
        if name.lower().startswith("aws:"):
            raise TagException(f"Tag key '{name}' is not valid: 'aws:' tag keys are reserved.")
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
