"""IAM roles: CreateRole, GetRole, ListRoles, DeleteRole, UpdateRole, UpdateAssumeRolePolicy (their
tags: :mod:`~.tags`). A role's trust policy is checked by the policy engine as a trust policy;
``MaxSessionDuration`` (3600-43200 seconds, by the model) bounds what AssumeRole may ask for.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.identity import OwnerKind, RoleRecord
from strongroom.iam.api.common import (
    Params,
    check_no_policies,
    new_entity,
    paged,
    unique,
    valid_document,
    want_role,
)
from strongroom.iam.api.tags import tag_list, tag_new
from strongroom.iam.service import IamService
from strongroom.policy import PolicyKind

__all__ = [
    "create_role",
    "delete_role",
    "get_role",
    "list_roles",
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
    role = new_entity(
        caller,
        RoleRecord,
        name,
        path,
        iam.clock.now(),
        trust_policy=trust,
        max_session_duration=params.get("MaxSessionDuration", DEFAULT_SESSION_SECONDS),
        description=params.get("Description", ""),
    )
    unique(lambda: iam.storage.insert_role(role), f"Role with name {name} already exists.")
    return {"Role": _output(role, tag_new(iam, caller, OwnerKind.ROLE, name, params))}


def get_role(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    role = want_role(iam, caller, params["RoleName"])
    tags = iam.storage.get_principal_tags(caller.account, OwnerKind.ROLE, role.name)
    return {"Role": _output(role, tags)}


def list_roles(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    roles = iam.storage.list_roles(caller.account, params.get("PathPrefix", "/"))
    return paged("Roles", roles, params, _output)


def delete_role(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    role = want_role(iam, caller, params["RoleName"])
    check_no_policies(iam, caller, OwnerKind.ROLE, role.name)
    iam.storage.delete_role(caller.account, role.name)
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
