"""IAM users: CreateUser, GetUser, ListUsers, DeleteUser and the user's tags."""

from __future__ import annotations

from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.identity import OwnerKind, UserRecord
from strongroom.errors import DeleteConflictException, ValidationException
from strongroom.iam.api.common import (
    NOT_A_USER,
    Params,
    entity_arn,
    new_id,
    page,
    put_tags,
    remove_tags,
    tag_list,
    unique,
    user_name_or_self,
    want_user,
)
from strongroom.iam.service import IamService

__all__ = [
    "create_user",
    "delete_user",
    "get_user",
    "list_user_tags",
    "list_users",
    "tag_user",
    "untag_user",
    "user_output",
]


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
    user = UserRecord(
        account=caller.account,
        name=name,
        path=path,
        user_id=new_id("AIDA"),
        arn=entity_arn(caller, "user", path, name),
        created_at=iam.clock.now(),
    )
    unique(lambda: iam.storage.insert_user(user), f"User with name {name} already exists.")
    tags = params.get("Tags", [])
    if tags:
        put_tags(iam, caller, OwnerKind.USER, name, tags)
    return {"User": user_output(user, {t["Key"]: t["Value"] for t in tags})}


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
    chosen, more = page(users, params, lambda user: user.name)
    return {"Users": [user_output(user) for user in chosen], **more}


def _conflict(iam: IamService, caller: Caller, user: UserRecord) -> str | None:
    store = iam.storage
    if store.list_access_keys(user.arn):
        return "Cannot delete entity, must delete access keys first."
    if store.list_inline_policies(caller.account, OwnerKind.USER, user.name):
        return "Cannot delete entity, must delete policies first."
    if store.list_attached_policies(caller.account, OwnerKind.USER, user.name):
        return "Cannot delete entity, must detach all policies first."
    if store.list_groups_for_user(caller.account, user.name):
        return "Cannot delete entity, must remove users from group first."
    return None


def delete_user(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    user = want_user(iam, caller, params["UserName"])
    conflict = _conflict(iam, caller, user)
    if conflict is not None:
        raise DeleteConflictException(conflict)
    iam.storage.delete_user(caller.account, user.name)
    return {}


def tag_user(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    user = want_user(iam, caller, params["UserName"])
    put_tags(iam, caller, OwnerKind.USER, user.name, params["Tags"])
    return {}


def untag_user(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    user = want_user(iam, caller, params["UserName"])
    remove_tags(iam, caller, OwnerKind.USER, user.name, params["TagKeys"])
    return {}


def list_user_tags(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    user = want_user(iam, caller, params["UserName"])
    tags = iam.storage.get_principal_tags(caller.account, OwnerKind.USER, user.name)
    chosen, more = page(list(tags.items()), params, lambda item: item[0])
    return {"Tags": tag_list(dict(chosen)), **more}
