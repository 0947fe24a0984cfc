"""IAM users: CreateUser, GetUser, ListUsers, DeleteUser (their tags: :mod:`~.tags`)."""

from __future__ import annotations

from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.identity import OwnerKind, UserRecord
from strongroom.errors import DeleteConflictException, ValidationException
from strongroom.iam.api.common import (
    NOT_A_USER,
    Params,
    check_no_policies,
    new_entity,
    paged,
    unique,
    user_name_or_self,
    want_user,
)
from strongroom.iam.api.tags import tag_list, tag_new
from strongroom.iam.service import IamService

__all__ = ["create_user", "delete_user", "get_user", "list_users", "user_output"]


def user_output(user: UserRecord, tags: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.user_id,
        "Arn": user.arn,
        "CreateDate": user.created_at,
    }
    if tags:
        out["Tags"] = tag_list(tags)
    return out


def create_user(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    name, path = params["UserName"], params.get("Path", "/")
    user = new_entity(caller, UserRecord, name, path, iam.clock.now())
    unique(lambda: iam.storage.insert_user(user), f"User with name {name} already exists.")
    return {"User": user_output(user, tag_new(iam, caller, OwnerKind.USER, name, params))}


def _root_as_user(iam: IamService, caller: Caller) -> dict[str, Any]:
    """What GetUser says about an account root: its id, ARN and when the account was made."""
    account = iam.storage.get_account(caller.account)
    created = account.created_at if account is not None else iam.clock.now()
    return {"UserId": caller.account, "Arn": caller.principal.arn, "CreateDate": created}


def get_user(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    name = user_name_or_self(caller, params)
    if name is None:
        if caller.principal.is_root:
            return {"User": _root_as_user(iam, caller)}
        raise ValidationException(NOT_A_USER)
    user = want_user(iam, caller, name)
    tags = iam.storage.get_principal_tags(caller.account, OwnerKind.USER, user.name)
    return {"User": user_output(user, tags)}


def list_users(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    users = iam.storage.list_users(caller.account, params.get("PathPrefix", "/"))
    return paged("Users", users, params, user_output)


def delete_user(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    user = want_user(iam, caller, params["UserName"])
    store = iam.storage
    if store.list_access_keys(user.arn):
        raise DeleteConflictException("Cannot delete entity, must delete access keys first.")
    check_no_policies(iam, caller, OwnerKind.USER, user.name)
    if store.list_groups_for_user(caller.account, user.name):
        raise DeleteConflictException("Cannot delete entity, must remove users from group first.")
    store.delete_user(caller.account, user.name)
    return {}
