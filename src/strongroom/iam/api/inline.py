"""Inline policies of users, groups and roles: Put/Get/Delete/List{User,Group,Role}Policy.

The three families differ only in the owner's parameter name and kind, so each operation is made
once by a factory. Documents are checked by the policy engine as identity policies; the total size
of an owner's inline policies is bounded as in IAM (whitespace not counted).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.identity import InlinePolicyRecord, OwnerKind
from strongroom.errors import LimitExceededException, NoSuchEntityException
from strongroom.iam.api.common import Operation, Params, page, valid_document, want_owner
from strongroom.iam.service import IamService

__all__ = ["INLINE_OPERATIONS"]

_PARAM = {OwnerKind.USER: "UserName", OwnerKind.GROUP: "GroupName", OwnerKind.ROLE: "RoleName"}
_MAX_TOTAL = {OwnerKind.USER: 2048, OwnerKind.GROUP: 5120, OwnerKind.ROLE: 10240}


@dataclasses.dataclass(frozen=True, slots=True)
class _Family:
    kind: OwnerKind

    @property
    def param(self) -> str:
        return _PARAM[self.kind]

    def owner(self, iam: IamService, caller: Caller, params: Params) -> str:
        return want_owner(iam, caller, self.kind, params[self.param])

    def missing(self, name: str) -> NoSuchEntityException:
        return NoSuchEntityException(
            f"The {self.kind.value} policy with name {name} cannot be found."
        )


def _size(text: str) -> int:
    return sum(1 for char in text if not char.isspace())


def _put(family: _Family) -> Operation:
    def put(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
        owner = family.owner(iam, caller, params)
        name = params["PolicyName"]
        document = valid_document(params["PolicyDocument"])
        others = iam.storage.list_inline_policies(caller.account, family.kind, owner)
        total = _size(document) + sum(
            _size(p.document) for p in others if p.name.lower() != name.lower()
        )
        limit = _MAX_TOTAL[family.kind]
        if total > limit:
            raise LimitExceededException(
                f"Maximum policy size of {limit} bytes exceeded for {family.kind.value} {owner}"
            )
        record = InlinePolicyRecord(caller.account, family.kind, owner, name, document)
        iam.storage.put_inline_policy(record)
        return {}

    return put


def _get(family: _Family) -> Operation:
    def get(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
        owner = family.owner(iam, caller, params)
        name = params["PolicyName"]
        found = iam.storage.get_inline_policy(caller.account, family.kind, owner, name)
        if found is None:
            raise family.missing(name)
        return {family.param: owner, "PolicyName": found.name, "PolicyDocument": found.document}

    return get


def _delete(family: _Family) -> Operation:
    def delete(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
        owner = family.owner(iam, caller, params)
        name = params["PolicyName"]
        if not iam.storage.delete_inline_policy(caller.account, family.kind, owner, name):
            raise family.missing(name)
        return {}

    return delete


def _list(family: _Family) -> Operation:
    def list_names(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
        owner = family.owner(iam, caller, params)
        names = [
            p.name for p in iam.storage.list_inline_policies(caller.account, family.kind, owner)
        ]
        chosen, more = page(names, params, lambda name: name)
        return {"PolicyNames": chosen, **more}

    return list_names


def _operations() -> dict[str, Operation]:
    table: dict[str, Operation] = {}
    for kind in OwnerKind:
        family, noun = _Family(kind), kind.value.capitalize()
        table[f"Put{noun}Policy"] = _put(family)
        table[f"Get{noun}Policy"] = _get(family)
        table[f"Delete{noun}Policy"] = _delete(family)
        table[f"List{noun}Policies"] = _list(family)
    return table


INLINE_OPERATIONS: dict[str, Operation] = _operations()
