"""The IAM API: one function per operation, a dispatch table, and :func:`call`, which authorizes
a request (``authorize``) before running it. The wire (AWS Query, XML) is ``protocol.query``'s.

Each operation is ``op(iam, caller, params) -> output``: ``params`` validated against the model's
input shape, the output keyed by the model's output member names. An operation the model has but
Strongroom does not serve answers a clear ``NotImplemented`` error.
"""

from __future__ import annotations

from typing import Any

from strongroom.domain.caller import Caller
from strongroom.errors import UnsupportedOperationException
from strongroom.iam.api import access_keys, groups, roles, users
from strongroom.iam.api.authorize import authorize
from strongroom.iam.api.common import Operation, Params
from strongroom.iam.api.inline import INLINE_OPERATIONS
from strongroom.iam.api.managed import MANAGED_OPERATIONS
from strongroom.iam.api.tags import TAG_OPERATIONS
from strongroom.iam.service import IamService

__all__ = ["OPERATIONS", "call"]

OPERATIONS: dict[str, Operation] = {
    "CreateUser": users.create_user,
    "GetUser": users.get_user,
    "ListUsers": users.list_users,
    "DeleteUser": users.delete_user,
    "CreateAccessKey": access_keys.create_key,
    "ListAccessKeys": access_keys.list_keys,
    "UpdateAccessKey": access_keys.update_key,
    "DeleteAccessKey": access_keys.delete_key,
    "CreateGroup": groups.create_group,
    "GetGroup": groups.get_group,
    "ListGroups": groups.list_groups,
    "DeleteGroup": groups.delete_group,
    "AddUserToGroup": groups.add_user_to_group,
    "RemoveUserFromGroup": groups.remove_user_from_group,
    "ListGroupsForUser": groups.list_groups_for_user,
    "CreateRole": roles.create_role,
    "GetRole": roles.get_role,
    "ListRoles": roles.list_roles,
    "DeleteRole": roles.delete_role,
    "UpdateAssumeRolePolicy": roles.update_assume_role_policy,
    "UpdateRole": roles.update_role,
    **INLINE_OPERATIONS,
    **MANAGED_OPERATIONS,
    **TAG_OPERATIONS,
}


def call(iam: IamService, caller: Caller, action: str, params: Params) -> dict[str, Any]:
    """Authorize and run one IAM operation (``action`` is a model operation name)."""
    operation = OPERATIONS.get(action)
    if operation is None:
        raise UnsupportedOperationException(f"{action} is not yet supported by Strongroom.")
    authorize(iam, caller, action, params)
    return operation(iam, caller, params)
