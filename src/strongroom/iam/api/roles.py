"""IAM roles: CreateRole, GetRole, ListRoles, DeleteRole, UpdateRole, UpdateAssumeRolePolicy and
the role's tags. A role's trust policy is checked by the policy engine as a trust policy;
``MaxSessionDuration`` (3600-43200 seconds, by the model) bounds what AssumeRole may ask for.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.identity import OwnerKind, RoleRecord
from strongroom.errors import DeleteConflictException
from strongroom.iam.api.common import (
    Params,
    entity_arn,
    new_id,
    page,
    put_tags,
    remove_tags,
    tag_list,
    unique,
    valid_document,
    want_role,
)
from strongroom.iam.service import IamService
from strongroom.policy import PolicyKind

__all__ = [
    "create_role",
    "delete_role",
    "get_role",
    "list_role_tags",
    "list_roles",
    "tag_role",
    "untag_role",
    "update_assume_role_policy",
    "update_role",
]

DEFAULT_SESSION_SECONDS = 3600


def _output(role: RoleRecord, tags: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": role.arn,
        "CreateDate": role.created_at,
        "AssumeRolePolicyDocument": role.trust_policy,
        "MaxSessionDuration": role.max_session_duration,
    }
    if role.description:
        out["Description"] = role.description
    if tags:
        out["Tags"] = tag_list(tags)
    return out


def create_role(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    name, path = params["RoleName"], params.get("Path", "/")
    trust = valid_document(params["AssumeRolePolicyDocument"], PolicyKind.TRUST)
    role = RoleRecord(
        account=caller.account,
        name=name,
        path=path,
        role_id=new_id("AROA"),
        arn=entity_arn(caller, "role", path, name),
        trust_policy=trust,
        max_session_duration=params.get("MaxSessionDuration", DEFAULT_SESSION_SECONDS),
        description=params.get("Description", ""),
        created_at=iam.clock.now(),
    )
    unique(lambda: iam.storage.insert_role(role), f"Role with name {name} already exists.")
    tags = params.get("Tags", [])
    if tags:
        put_tags(iam, caller, OwnerKind.ROLE, name, tags)
    return {"Role": _output(role, {t["Key"]: t["Value"] for t in tags})}


def get_role(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    role = want_role(iam, caller, params["RoleName"])
    tags = iam.storage.get_principal_tags(caller.account, OwnerKind.ROLE, role.name)
    return {"Role": _output(role, tags)}


def list_roles(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    roles = iam.storage.list_roles(caller.account, params.get("PathPrefix", "/"))
    chosen, more = page(roles, params, lambda role: role.name)
    return {"Roles": [_output(role) for role in chosen], **more}


def delete_role(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    role = want_role(iam, caller, params["RoleName"])
    store, account = iam.storage, caller.account
    if store.list_inline_policies(account, OwnerKind.ROLE, role.name):
        raise DeleteConflictException("Cannot delete entity, must delete policies first.")
    if store.list_attached_policies(account, OwnerKind.ROLE, role.name):
        raise DeleteConflictException("Cannot delete entity, must detach all policies first.")
    store.delete_role(account, role.name)
    return {}


def update_assume_role_policy(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    role = want_role(iam, caller, params["RoleName"])
    trust = valid_document(params["PolicyDocument"], PolicyKind.TRUST)
    iam.storage.update_role(dataclasses.replace(role, trust_policy=trust))
    return {}


def update_role(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    role = want_role(iam, caller, params["RoleName"])
    changed = dataclasses.replace(
        role,
        description=params.get("Description", role.description),
        max_session_duration=params.get("MaxSessionDuration", role.max_session_duration),
    )
    iam.storage.update_role(changed)
    return {}


def tag_role(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    role = want_role(iam, caller, params["RoleName"])
    put_tags(iam, caller, OwnerKind.ROLE, role.name, params["Tags"])
    return {}


def untag_role(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    role = want_role(iam, caller, params["RoleName"])
    remove_tags(iam, caller, OwnerKind.ROLE, role.name, params["TagKeys"])
    return {}


def list_role_tags(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    role = want_role(iam, caller, params["RoleName"])
    tags = iam.storage.get_principal_tags(caller.account, OwnerKind.ROLE, role.name)
    chosen, more = page(list(tags.items()), params, lambda item: item[0])
    return {"Tags": tag_list(dict(chosen)), **more}
