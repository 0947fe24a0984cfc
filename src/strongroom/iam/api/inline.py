"""Inline policies of users, groups and roles: Put/Get/Delete/List{User,Group,Role}Policy.

The three families differ only in the owner's parameter name and kind, so each operation is written
once, for an owner :func:`~.common.per_owner` has found. Documents are checked by the policy engine
as identity policies; the total size of an owner's inline policies is bounded as in IAM (whitespace
not counted).
"""

from __future__ import annotations

from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.identity import InlinePolicyRecord, OwnerKind
from strongroom.errors import LimitExceededException, NoSuchEntityException
from strongroom.iam.api.common import (
    OWNER_PARAM,
    Operation,
    Params,
    page,
    per_owner,
    policy_size,
    valid_document,
)
from strongroom.iam.service import IamService

__all__ = ["INLINE_OPERATIONS"]

_MAX_TOTAL = {OwnerKind.USER: 2048, OwnerKind.GROUP: 5120, OwnerKind.ROLE: 10240}


def _missing(kind: OwnerKind, name: str) -> NoSuchEntityException:
    return NoSuchEntityException(f"The {kind.value} policy with name {name} cannot be found.")


def _put(
    iam: IamService, caller: Caller, kind: OwnerKind, owner: str, params: Params
) -> dict[str, Any]:
    name = params["PolicyName"]
    document = valid_document(params["PolicyDocument"])
    others = iam.storage.list_inline_policies(caller.account, kind, owner)
    total = policy_size(document) + sum(
        policy_size(p.document) for p in others if p.name.lower() != name.lower()
    )
    limit = _MAX_TOTAL[kind]
    if total > limit:
        raise LimitExceededException(
            f"Maximum policy size of {limit} bytes exceeded for {kind.value} {owner}"
        )
    iam.storage.put_inline_policy(InlinePolicyRecord(caller.account, kind, owner, name, document))
    return {}


def _get(
    iam: IamService, caller: Caller, kind: OwnerKind, owner: str, params: Params
) -> dict[str, Any]:
    name = params["PolicyName"]
    found = iam.storage.get_inline_policy(caller.account, kind, owner, name)
    if found is None:
        raise _missing(kind, name)
    return {OWNER_PARAM[kind]: owner, "PolicyName": found.name, "PolicyDocument": found.document}


def _delete(
    iam: IamService, caller: Caller, kind: OwnerKind, owner: str, params: Params
) -> dict[str, Any]:
    name = params["PolicyName"]
    if not iam.storage.delete_inline_policy(caller.account, kind, owner, name):
        raise _missing(kind, name)
    return {}


def _list(
    iam: IamService, caller: Caller, kind: OwnerKind, owner: str, params: Params
) -> dict[str, Any]:
    names = [p.name for p in iam.storage.list_inline_policies(caller.account, kind, owner)]
    chosen, more = page(names, params, lambda name: name)
    return {"PolicyNames": chosen, **more}


INLINE_OPERATIONS: dict[str, Operation] = per_owner(
    {
        "Put{}Policy": _put,
        "Get{}Policy": _get,
        "Delete{}Policy": _delete,
        "List{}Policies": _list,
    }
)
