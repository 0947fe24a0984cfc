"""Tags of users and roles: TagUser, UntagUser, ListUserTags, TagRole, UntagRole, ListRoleTags, and
the tags CreateUser and CreateRole carry.

The two families differ only in the owner's kind and parameter name, so each operation is written
once, for an owner :func:`~.common.per_owner` has found. Keys are case-insensitive (a key given
again in another case replaces the old one); at most 50 tags per user or role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.identity import OwnerKind
from strongroom.errors import InvalidInputException, LimitExceededException
from strongroom.iam.api.common import Operation, Params, page, per_owner
from strongroom.iam.service import IamService

__all__ = ["MAX_TAGS", "TAG_OPERATIONS", "put_tags", "remove_tags", "tag_list", "tag_new"]

MAX_TAGS = 50
_DUPLICATE_TAGS = "Duplicate tag keys found. Please note that Tag keys are case insensitive."


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def put_tags(
    iam: IamService, caller: Caller, kind: OwnerKind, owner: str, tags: Sequence[Mapping[str, str]]
) -> None:
    """Add or replace tags; keys are case-insensitive, at most 50 per user or role."""
    new = {str(tag["Key"]): str(tag.get("Value", "")) for tag in tags}
    if len({key.lower() for key in new}) != len(tags):
        raise InvalidInputException(_DUPLICATE_TAGS)
    existing = iam.storage.get_principal_tags(caller.account, kind, owner)
    folded = {key.lower(): key for key in existing}
    stale = [folded[key.lower()] for key in new if folded.get(key.lower(), key) != key]
    if len({key.lower() for key in [*existing, *new]}) > MAX_TAGS:
        quota = "TagsPerUser" if kind is OwnerKind.USER else "TagsPerRole"
        raise LimitExceededException(f"Cannot exceed quota for {quota}: {MAX_TAGS}")
    if stale:
        iam.storage.delete_principal_tags(caller.account, kind, owner, stale)
    iam.storage.put_principal_tags(caller.account, kind, owner, new)


def remove_tags(
    iam: IamService, caller: Caller, kind: OwnerKind, owner: str, keys: Sequence[str]
) -> None:
    """Remove the tags with these keys (case-insensitively); absent keys are no error."""
    wanted = {key.lower() for key in keys}
    existing = iam.storage.get_principal_tags(caller.account, kind, owner)
    doomed = [key for key in existing if key.lower() in wanted]
    if doomed:
        iam.storage.delete_principal_tags(caller.account, kind, owner, doomed)


def tag_new(
    iam: IamService, caller: Caller, kind: OwnerKind, name: str, params: Params
) -> dict[str, str]:
    """Put the ``Tags`` of a CreateUser or CreateRole on the new ``name``; return them (for the
    reply)."""
    tags = params.get("Tags", [])
    if tags:
        put_tags(iam, caller, kind, name, tags)
    return {tag["Key"]: tag["Value"] for tag in tags}


def _tag(
    iam: IamService, caller: Caller, kind: OwnerKind, owner: str, params: Params
) -> dict[str, Any]:
    put_tags(iam, caller, kind, owner, params["Tags"])
    return {}


def _untag(
    iam: IamService, caller: Caller, kind: OwnerKind, owner: str, params: Params
) -> dict[str, Any]:
    remove_tags(iam, caller, kind, owner, params["TagKeys"])
    return {}


def _list_tags(
    iam: IamService, caller: Caller, kind: OwnerKind, owner: str, params: Params
) -> dict[str, Any]:
    tags = iam.storage.get_principal_tags(caller.account, kind, owner)
    chosen, more = page(list(tags.items()), params, lambda item: item[0])
    return {"Tags": tag_list(dict(chosen)), **more}


TAG_OPERATIONS: dict[str, Operation] = per_owner(
    {"Tag{}": _tag, "Untag{}": _untag, "List{}Tags": _list_tags},
    kinds=(OwnerKind.USER, OwnerKind.ROLE),
)
