"""IAM groups and their members: CreateGroup, GetGroup, ListGroups, DeleteGroup,
AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser.

Groups are never principals: they carry identity policies for their members (``policies_for``).
"""

from __future__ import annotations

from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.identity import GroupRecord, OwnerKind
from strongroom.errors import DeleteConflictException, LimitExceededException, NoSuchEntityException
from strongroom.iam.api.common import (
    Params,
    check_no_policies,
    new_entity,
    paged,
    unique,
    want_group,
    want_user,
)
from strongroom.iam.api.users import user_output
from strongroom.iam.service import IamService

__all__ = [
    "add_user_to_group",
    "create_group",
    "delete_group",
    "get_group",
    "list_groups",
    "list_groups_for_user",
    "remove_user_from_group",
]

MAX_GROUPS_PER_USER = 10


def _output(group: GroupRecord) -> dict[str, Any]:
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.group_id,
        "Arn": group.arn,
        "CreateDate": group.created_at,
    }


def create_group(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    name, path = params["GroupName"], params.get("Path", "/")
    group = new_entity(caller, GroupRecord, name, path, iam.clock.now())
    unique(lambda: iam.storage.insert_group(group), f"Group with name {name} already exists.")
    return {"Group": _output(group)}


def get_group(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    group = want_group(iam, caller, params["GroupName"])
    members = iam.storage.list_group_members(caller.account, group.name)
    return {"Group": _output(group), **paged("Users", members, params, user_output)}


def list_groups(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    groups = iam.storage.list_groups(caller.account, params.get("PathPrefix", "/"))
    return paged("Groups", groups, params, _output)


def delete_group(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    group = want_group(iam, caller, params["GroupName"])
    store, account = iam.storage, caller.account
    if store.list_group_members(account, group.name):
        raise DeleteConflictException("Cannot delete entity, must remove users from group first.")
    check_no_policies(iam, caller, OwnerKind.GROUP, group.name)
    store.delete_group(account, group.name)
    return {}


def add_user_to_group(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    group = want_group(iam, caller, params["GroupName"])
    user = want_user(iam, caller, params["UserName"])
    current = iam.storage.list_groups_for_user(caller.account, user.name)
    if any(g.name.lower() == group.name.lower() for g in current):
        return {}
    if len(current) >= MAX_GROUPS_PER_USER:
        raise LimitExceededException(
            f"Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}"
        )
    iam.storage.add_user_to_group(caller.account, group.name, user.name)
    return {}


def remove_user_from_group(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    group = want_group(iam, caller, params["GroupName"])
    user = want_user(iam, caller, params["UserName"])
    if not iam.storage.remove_user_from_group(caller.account, group.name, user.name):
        raise NoSuchEntityException(
            f"The user with name {user.name} cannot be found in group {group.name}."
        )
    return {}


def list_groups_for_user(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    user = want_user(iam, caller, params["UserName"])
    groups = iam.storage.list_groups_for_user(caller.account, user.name)
    return paged("Groups", groups, params, _output)
