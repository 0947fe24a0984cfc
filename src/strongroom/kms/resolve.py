"""Turning a KeyId parameter (id, key ARN, alias name, alias ARN) into a key (kms-spec.md 3.3)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord
from strongroom.errors import NotFoundException
from strongroom.kms.service import KmsService

__all__ = ["authorized_key", "is_key_id", "parse_arn", "request_alias", "resolve_key"]

_KEY_ID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}"
)


def is_key_id(value: str) -> bool:
    return _KEY_ID.fullmatch(value) is not None


def parse_arn(caller: Caller, value: str) -> tuple[str, str]:
    """``arn:aws:kms:<region>:<account>:<resource>`` -> (account, resource)."""
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[2] != "kms" or not parts[1] or not parts[5]:
        raise NotFoundException(f"Invalid arn {value}")
    _, partition, _, region, account, resource = parts
    if region != caller.region or partition != caller.partition:
        raise NotFoundException(f"Invalid arn {region}")
    if not re.fullmatch(r"\d{12}", account):
        raise NotFoundException(f"Invalid arn {value}")
    return account, resource


def resolve_key(svc: KmsService, caller: Caller, key_id: str, *, allow_alias: bool) -> KeyRecord:
    """The key ``key_id`` names, in the caller's region; AWS's NotFoundException otherwise.

    Resolution only: the caller is not yet authorized to do anything with the key.
    """
    account = caller.account
    reference = key_id
    if key_id.startswith("arn:"):
        account, reference = parse_arn(caller, key_id)
        if reference.startswith("key/"):
            reference = reference[4:]
        elif not reference.startswith("alias/"):
            raise NotFoundException(f"Invalid arn {key_id}")
    if reference.startswith("alias/"):
        if not allow_alias:
            raise NotFoundException(f"Invalid keyId '{key_id}'")
        alias = svc.keys.get_alias(account, caller.region, reference)
        if alias is None:
            raise NotFoundException(f"Alias {caller.alias_arn(reference, account)} is not found.")
        reference = alias.target_key_id
    elif not is_key_id(reference):
        raise NotFoundException(f"Invalid keyId '{key_id}'")
    key = svc.get_key(account, caller.region, reference)
    if key is None:
        raise NotFoundException(f"Key '{caller.key_arn(reference, account)}' does not exist")
    return key


def request_alias(key_id: str) -> str | None:
    """The alias name a KeyId parameter used (``kms:RequestAlias``), if it used one."""
    if key_id.startswith("alias/"):
        return key_id
    if key_id.startswith("arn:") and ":alias/" in key_id:
        return "alias/" + key_id.split(":alias/", 1)[1]
    return None


def authorized_key(
    svc: KmsService,
    caller: Caller,
    key_id: str,
    *,
    action: str,
    allow_alias: bool,
    params: Mapping[str, Any],
) -> KeyRecord:
    """Resolve ``key_id`` and authorize ``kms:<action>`` on it (AccessDeniedException if not)."""
    key = resolve_key(svc, caller, key_id, allow_alias=allow_alias)
    svc.access.authorize_key(
        caller, f"kms:{action}", key, params, request_alias=request_alias(key_id)
    )
    return key
