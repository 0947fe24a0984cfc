"""What every IAM operation shares: identifiers, ARNs, new entities, lookups that raise AWS's
``NoSuchEntity``, delete conflicts, policy-document checks and ``Marker``/``MaxItems`` paging.

Operations are ``op(iam, caller, params) -> output`` where ``params`` has been validated against
the model's input shape and the output dict is keyed by the output shape's member names.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

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
    DeleteConflictException,
    EntityAlreadyExistsException,
    MalformedPolicyDocumentException,
    NoSuchEntityException,
)
from strongroom.iam.service import IamService
from strongroom.policy import MalformedPolicy, PolicyKind, parse_policy
from strongroom.storage import DuplicateError

__all__ = [
    "NOT_A_USER",
    "OWNER_PARAM",
    "Operation",
    "OwnerOperation",
    "Params",
    "check_no_policies",
    "entity_arn",
    "new_entity",
    "new_id",
    "page",
    "paged",
    "per_owner",
    "policy_size",
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
# An operation on a user's, group's or role's policies or tags: (..., kind, owner's name, params).
OwnerOperation = Callable[[IamService, Caller, OwnerKind, str, Params], dict[str, Any]]
T = TypeVar("T")
E = TypeVar("E", UserRecord, GroupRecord, RoleRecord, ManagedPolicyRecord)

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
NOT_A_USER = "Must specify userName when calling with non-User credentials"
# The parameter that names the owner of inline policies, attachments and tags.
OWNER_PARAM = {OwnerKind.USER: "UserName", OwnerKind.GROUP: "GroupName", OwnerKind.ROLE: "RoleName"}
# Each entity's kind in its ARN and the prefix of its id (the record's ``<kind>_id`` field).
_ENTITIES: dict[type[Any], tuple[str, str]] = {
    UserRecord: ("user", "AIDA"),
    GroupRecord: ("group", "AGPA"),
    RoleRecord: ("role", "AROA"),
    ManagedPolicyRecord: ("policy", "ANPA"),
}


def new_id(prefix: str) -> str:
    """``AIDA``/``AGPA``/``AROA``/``ANPA`` + 17 upper-case base32 characters, as IAM's ids."""
    return prefix + "".join(secrets.choice(_B32) for _ in range(17))


def entity_arn(caller: Caller, kind: str, path: str, name: str) -> str:
    """``arn:aws:iam::ACCOUNT:user/path/name`` (``kind`` is user, group, role or policy)."""
    return f"arn:{caller.partition}:iam::{caller.account}:{kind}{path}{name}"


def new_entity(
    caller: Caller, record_type: type[E], name: str, path: str, created_at: float, **fields: Any
) -> E:
    """A new user, group, role or managed policy in the caller's account, with a fresh id and its
    ARN; ``fields`` are the rest of the record."""
    kind, prefix = _ENTITIES[record_type]
    arn = entity_arn(caller, kind, path, name)
    fields[f"{kind}_id"] = new_id(prefix)
    return record_type(
        account=caller.account, name=name, path=path, arn=arn, created_at=created_at, **fields
    )


def unique(create: Callable[[], None], message: str) -> None:
    """Run a storage insert; a name clash is IAM's ``EntityAlreadyExists``."""
    try:
        create()
    except DuplicateError:
        raise EntityAlreadyExistsException(message) from None


def _found(record: T | None, kind: str, name: str) -> T:
    if record is None:
        raise NoSuchEntityException(f"The {kind} with name {name} cannot be found.")
    return record


def want_user(iam: IamService, caller: Caller, name: str) -> UserRecord:
    return _found(iam.storage.get_user(caller.account, name), "user", name)


def want_group(iam: IamService, caller: Caller, name: str) -> GroupRecord:
    return _found(iam.storage.get_group(caller.account, name), "group", name)


def want_role(iam: IamService, caller: Caller, name: str) -> RoleRecord:
    return _found(iam.storage.get_role(caller.account, name), "role", name)


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


def check_no_policies(iam: IamService, caller: Caller, kind: OwnerKind, name: str) -> None:
    """``DeleteConflict`` while the user, group or role ``name`` has inline or attached policies."""
    if iam.storage.list_inline_policies(caller.account, kind, name):
        raise DeleteConflictException("Cannot delete entity, must delete policies first.")
    if iam.storage.list_attached_policies(caller.account, kind, name):
        raise DeleteConflictException("Cannot delete entity, must detach all policies first.")


def per_owner(
    operations: Mapping[str, OwnerOperation], kinds: Iterable[OwnerKind] = tuple(OwnerKind)
) -> dict[str, Operation]:
    """Each of ``operations`` for each kind of owner, named by its template (``"Attach{}Policy"``:
    AttachUserPolicy, AttachGroupPolicy, AttachRolePolicy). The operation is given the stored name
    of the owner the call names by ``UserName``, ``GroupName`` or ``RoleName`` (NoSuchEntity if
    there is none)."""
    return {
        template.format(kind.value.capitalize()): _on_owner(operation, kind)
        for template, operation in operations.items()
        for kind in kinds
    }


def _on_owner(operation: OwnerOperation, kind: OwnerKind) -> Operation:
    def on_owner(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
        owner = want_owner(iam, caller, kind, params[OWNER_PARAM[kind]])
        return operation(iam, caller, kind, owner, params)

    return on_owner


def user_name_or_self(caller: Caller, params: Params) -> str | None:
    """``UserName``, or the calling user's own name when it is left out (None for a root)."""
    name = params.get("UserName")
    if name is not None:
        return str(name)
    return caller.principal.name if caller.principal.type is PrincipalType.USER else None


def policy_size(text: str) -> int:
    """A policy document's size as IAM's quotas count it: whitespace is not counted."""
    return sum(1 for char in text if not char.isspace())


def valid_document(text: str, kind: PolicyKind = PolicyKind.IDENTITY) -> str:
    """The document, if the policy engine accepts it; AWS's reason in the error if not."""
    try:
        parse_policy(text, kind)
    except MalformedPolicy as refused:
        raise MalformedPolicyDocumentException(refused.reason) from None
    return text


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


def paged(
    member: str, items: Sequence[N], params: Params, output: Callable[[N], dict[str, Any]]
) -> Params:
    """The output ``member``: one :func:`page` of ``items`` by name, each as ``output`` shows it;
    with the ``IsTruncated``/``Marker`` members."""
    chosen, more = page(items, params, lambda item: item.name)
    return {member: [output(item) for item in chosen], **more}


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
