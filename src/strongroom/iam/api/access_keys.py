"""Long-term access keys of IAM users (and of the account root, when no UserName is given):
CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey.

At most two per user (``LimitExceeded``). The secret is generated and wrapped exactly as
``strongroom init`` does (:func:`strongroom.iam.credentials.create_access_key`, key store purpose
``access-key:<id>``); it is in the CreateAccessKey reply once and nowhere else, ever.
"""

from __future__ import annotations

from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.identity import AccessKeyRecord
from strongroom.errors import LimitExceededException, NoSuchEntityException, ValidationException
from strongroom.iam.api.common import NOT_A_USER, Params, user_name_or_self, want_user
from strongroom.iam.credentials import create_access_key
from strongroom.iam.service import IamService

__all__ = ["create_key", "delete_key", "list_keys", "update_key"]

MAX_KEYS = 2


def _owner(iam: IamService, caller: Caller, params: Params) -> tuple[str | None, str]:
    """(user name or None for the root, the owner's ARN) of the keys a request is about."""
    name = user_name_or_self(caller, params)
    if name is None:
        if not caller.principal.is_root:
            raise ValidationException(NOT_A_USER)
        return None, caller.principal.account_arn
    user = want_user(iam, caller, name)
    return user.name, user.arn


def _metadata(key: AccessKeyRecord, user: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AccessKeyId": key.access_key_id,
        "Status": key.status,
        "CreateDate": key.created_at,
    }
    if user is not None:
        out["UserName"] = user
    return out


def create_key(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    user, arn = _owner(iam, caller, params)
    if len(iam.storage.list_access_keys(arn)) >= MAX_KEYS:
        raise LimitExceededException(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}")
    now = iam.clock.now()
    new = create_access_key(iam.storage, iam.keystore, caller.account, now, principal_arn=arn)
    out: dict[str, Any] = {
        "AccessKeyId": new.access_key_id,
        "Status": "Active",
        "SecretAccessKey": new.secret_access_key,
        "CreateDate": now,
    }
    if user is not None:
        out["UserName"] = user
    return {"AccessKey": out}


def list_keys(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    user, arn = _owner(iam, caller, params)
    keys = sorted(iam.storage.list_access_keys(arn), key=lambda key: key.created_at)
    return {"AccessKeyMetadata": [_metadata(key, user) for key in keys], "IsTruncated": False}


def _want_key(iam: IamService, caller: Caller, params: Params) -> AccessKeyRecord:
    _, arn = _owner(iam, caller, params)
    key_id = params["AccessKeyId"]
    for key in iam.storage.list_access_keys(arn):
        if key.access_key_id == key_id:
            return key
    raise NoSuchEntityException(f"The Access Key with id {key_id} cannot be found.")


def update_key(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    key = _want_key(iam, caller, params)
    iam.storage.update_access_key_status(key.access_key_id, params["Status"])
    return {}


def delete_key(iam: IamService, caller: Caller, params: Params) -> dict[str, Any]:
    key = _want_key(iam, caller, params)
    iam.storage.delete_access_key(key.access_key_id)
    return {}
