"""CreateAlias, UpdateAlias, DeleteAlias and ListAliases. ``alias/aws/`` is reserved for AWS."""

from __future__ import annotations

from typing import Any

from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.domain.keys import AliasRecord, KeyRecord
from strongroom.errors import (
    AlreadyExistsException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from strongroom.kms.paging import page
from strongroom.kms.repository import DuplicateError
from strongroom.kms.resolve import authorized_key, resolve_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import require_state

__all__ = ["create_alias", "delete_alias", "list_aliases", "update_alias"]

_PREFIX_MESSAGE = (
    'Alias must start with the prefix "alias/". Please see '
    "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
)


def _check_name(name: str) -> None:
    if not name.startswith("alias/"):
        raise ValidationException(_PREFIX_MESSAGE)
    if name.startswith("alias/aws/"):
        raise NotAuthorizedException(
            f"{name} is reserved: aliases that begin with alias/aws/ belong to AWS managed keys."
        )
    if ":" in name:
        raise ValidationException(f"{name} contains invalid characters for an alias")
    if len(name) == len("alias/"):
        raise ValidationException("Alias name must not be empty after the prefix alias/.")


def _target(
    svc: KmsService, caller: Caller, key_id: str, action: str, p: dict[str, Any]
) -> KeyRecord:
    if key_id.startswith("alias/") or (key_id.startswith("arn:") and ":alias/" in key_id):
        raise ValidationException("Aliases must refer to keys. Not aliases")
    key = authorized_key(svc, caller, key_id, action=action, allow_alias=False, params=p)
    require_state(key, Action(action))
    return key


def _authorize_alias(
    svc: KmsService, caller: Caller, action: str, name: str, p: dict[str, Any]
) -> None:
    """The alias half of an alias operation: identity policies on the alias ARN (kms-spec 6.3)."""
    svc.access.authorize_account(caller, f"kms:{action}", p, resource=caller.alias_arn(name))


def create_alias(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    name = p["AliasName"]
    _check_name(name)
    key = _target(svc, caller, p["TargetKeyId"], "CreateAlias", p)
    _authorize_alias(svc, caller, "CreateAlias", name, p)
    now = svc.clock.now()
    try:
        svc.keys.insert_alias(
            AliasRecord(caller.account, caller.region, name, key.key_id, now, now)
        )
    except DuplicateError:
        raise AlreadyExistsException(
            f"An alias with the name {caller.alias_arn(name)} already exists"
        ) from None
    return {}


def _existing(svc: KmsService, caller: Caller, name: str) -> AliasRecord:
    alias = svc.keys.get_alias(caller.account, caller.region, name)
    if alias is None:
        raise NotFoundException(f"Alias {caller.alias_arn(name)} is not found.")
    return alias


def update_alias(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    name = p["AliasName"]
    _check_name(name)
    alias = _existing(svc, caller, name)
    key = _target(svc, caller, p["TargetKeyId"], "UpdateAlias", p)
    current = svc.get_key(caller.account, caller.region, alias.target_key_id)
    if current is not None:
        svc.access.authorize_key(caller, "kms:UpdateAlias", current, p)
    _authorize_alias(svc, caller, "UpdateAlias", name, p)
    if current is not None and (
        current.key_spec is not key.key_spec or current.key_usage is not key.key_usage
    ):
        raise ValidationException(
            f"Alias {name} points to a key of spec {current.key_spec.value} and usage "
            f"{current.key_usage.value}; the new target must have the same spec and usage."
        )
    svc.keys.update_alias(
        AliasRecord(
            alias.account,
            alias.region,
            name,
            key.key_id,
            alias.created_at,
            svc.clock.now(),
        )
    )
    return {}


def delete_alias(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    name = p["AliasName"]
    _check_name(name)
    alias = _existing(svc, caller, name)
    current = svc.get_key(caller.account, caller.region, alias.target_key_id)
    if current is not None:
        svc.access.authorize_key(caller, "kms:DeleteAlias", current, p)
    _authorize_alias(svc, caller, "DeleteAlias", name, p)
    svc.keys.delete_alias(caller.account, caller.region, name)
    return {}


def _entry(caller: Caller, alias: AliasRecord) -> dict[str, Any]:
    return {
        "AliasName": alias.name,
        "AliasArn": caller.alias_arn(alias.name),
        "TargetKeyId": alias.target_key_id,
        "CreationDate": alias.created_at,
        "LastUpdatedDate": alias.updated_at,
    }


def list_aliases(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    svc.access.authorize_account(caller, "kms:ListAliases", p)
    svc.deletions.sweep()
    target = None
    if "KeyId" in p:
        target = resolve_key(svc, caller, p["KeyId"], allow_alias=False)

    def fetch(after: str | None, limit: int) -> list[AliasRecord]:
        key_id = target.key_id if target is not None else None
        return svc.keys.read.list_aliases(caller.account, caller.region, key_id, after, limit)

    rows, paging = page(fetch, lambda a: a.name, p, listing="aliases", default=50, maximum=100)
    return {"Aliases": [_entry(caller, a) for a in rows], **paging}
