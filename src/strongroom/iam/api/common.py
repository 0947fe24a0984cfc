"""What every IAM operation shares: identifiers, ARNs, lookups that raise AWS's ``NoSuchEntity``,
policy-document checks, tags and ``Marker``/``MaxItems`` paging.

Operations are ``op(iam, caller, params) -> output`` where ``params`` has been validated against
the model's input shape and the output dict is keyed by the output shape's member names.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from strongroom.domain.caller import Caller
from strongroom.domain.identity import (
    GroupRecord,
    ManagedPolicyRecord,
    OwnerKind,
    RoleRecord,
    UserRecord,
)
from strongroom.domain.principal import PrincipalType
from strongroom.errors import (
    EntityAlreadyExistsException,
    InvalidInputException,
    LimitExceededException,
    MalformedPolicyDocumentException,
    NoSuchEntityException,
)
from strongroom.iam.service import IamService
from strongroom.policy import MalformedPolicy, PolicyKind, parse_policy
from strongroom.storage import DuplicateError

__all__ = [
    "NOT_A_USER",
    "Operation",
    "Params",
    "entity_arn",
    "new_id",
    "page",
    "put_tags",
    "remove_tags",
    "tag_list",
    "unique",
    "user_name_or_self",
    "valid_document",
    "want_group",
    "want_owner",
    "want_policy",
    "want_role",
    "want_user",
]

Params = dict[str, Any]
Operation = Callable[[IamService, Caller, Params], dict[str, Any]]
T = TypeVar("T")

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
MAX_TAGS = 50
NOT_A_USER = "Must specify userName when calling with non-User credentials"
_DUPLICATE_TAGS = "Duplicate tag keys found. Please note that Tag keys are case insensitive."


def new_id(prefix: str) -> str:
    """``AIDA``/``AGPA``/``AROA``/``ANPA`` + 17 upper-case base32 characters, as IAM's ids."""
    return prefix + "".join(secrets.choice(_B32) for _ in range(17))


def entity_arn(caller: Caller, kind: str, path: str, name: str) -> str:
    """``arn:aws:iam::ACCOUNT:user/path/name`` (``kind`` is user, group, role or policy)."""
    return f"arn:{caller.partition}:iam::{caller.account}:{kind}{path}{name}"


def unique(create: Callable[[], None], message: str) -> None:
    """Run a storage insert; a name clash is IAM's ``EntityAlreadyExists``."""
    try:
        create()
    except DuplicateError:
        raise EntityAlreadyExistsException(message) from None


def want_user(iam: IamService, caller: Caller, name: str) -> UserRecord:
    found = iam.storage.get_user(caller.account, name)
    if found is None:
        raise NoSuchEntityException(f"The user with name {name} cannot be found.")
    return found


def want_group(iam: IamService, caller: Caller, name: str) -> GroupRecord:
    found = iam.storage.get_group(caller.account, name)
    if found is None:
        raise NoSuchEntityException(f"The group with name {name} cannot be found.")
    return found


def want_role(iam: IamService, caller: Caller, name: str) -> RoleRecord:
    found = iam.storage.get_role(caller.account, name)
    if found is None:
        raise NoSuchEntityException(f"The role with name {name} cannot be found.")
    return found


def want_policy(iam: IamService, caller: Caller, arn: str) -> ManagedPolicyRecord:
    found = iam.storage.get_managed_policy(arn)
    if found is None or found.account != caller.account:
        raise NoSuchEntityException(f"Policy {arn} does not exist or is not attachable.")
    return found


def want_owner(iam: IamService, caller: Caller, kind: OwnerKind, name: str) -> str:
    """The stored name of the user, group or role ``name`` (NoSuchEntity if there is none)."""
    if kind is OwnerKind.USER:
        return want_user(iam, caller, name).name
    if kind is OwnerKind.GROUP:
        return want_group(iam, caller, name).name
    return want_role(iam, caller, name).name


def user_name_or_self(caller: Caller, params: Params) -> str | None:
    """``UserName``, or the calling user's own name when it is left out (None for a root)."""
    name = params.get("UserName")
    if name is not None:
        return str(name)
    return caller.principal.name if caller.principal.type is PrincipalType.USER else None


def valid_document(text: str, kind: PolicyKind = PolicyKind.IDENTITY) -> str:
    """The document, if the policy engine accepts it; AWS's reason in the error if not."""
    try:
        parse_policy(text, kind)
    except MalformedPolicy as refused:
        raise MalformedPolicyDocumentException(refused.reason) from None
    return text


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


def page(items: Sequence[T], params: Params, name: Callable[[T], str]) -> tuple[list[T], Params]:
    """One page of ``items`` (sorted by ``name``) after ``Marker``, at most ``MaxItems`` (100).

    Returns the page and the ``IsTruncated``/``Marker`` output members.
    """
    ordered = sorted(items, key=lambda item: name(item).lower())
    marker = params.get("Marker")
    if marker is not None:
        ordered = [item for item in ordered if name(item).lower() > str(marker).lower()]
    limit = int(params.get("MaxItems", 100))
    chosen = ordered[:limit]
    if len(ordered) > limit:
        return chosen, {"IsTruncated": True, "Marker": name(chosen[-1])}
    return chosen, {"IsTruncated": False}
