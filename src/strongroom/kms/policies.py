"""Key policies: GetKeyPolicy, ListKeyPolicies, PutKeyPolicy, and the checks every new key policy
passes (CreateKey's too): AWS's size limit, the policy language, principals that exist, and the
lockout safety check (kms-spec.md 6.5-6.6)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import orjson

from strongroom.domain.caller import Caller
from strongroom.domain.keys import KeyRecord
from strongroom.errors import MalformedPolicyDocumentException, NotFoundException
from strongroom.kms.paging import page
from strongroom.kms.policy_text import check_policy
from strongroom.kms.resolve import authorized_key
from strongroom.kms.service import KmsService
from strongroom.policy.document import MalformedPolicy, PolicyKind, parse_policy

__all__ = ["get_key_policy", "list_key_policies", "put_key_policy", "validate_new_policy"]

LOCKOUT = "The new key policy will not allow you to update the key policy in the future."
INVALID_PRINCIPALS = "Policy contains a statement with one or more invalid principals."
_IAM_ARN = re.compile(
    r"arn:(?P<partition>[\w-]+):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<resource>.+)"
)


def _aws_principals(text: str) -> list[str]:
    document = orjson.loads(text)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    found: list[str] = []
    for statement in statements:
        for element in ("Principal", "NotPrincipal"):
            value = statement.get(element) if isinstance(statement, dict) else None
            if isinstance(value, dict):
                aws = value.get("AWS", [])
                found += [aws] if isinstance(aws, str) else [str(a) for a in aws]
    return found


def _principal_exists(svc: KmsService, principal: str) -> bool:
    if principal == "*":
        return True
    if re.fullmatch(r"\d{12}", principal):
        return svc.identity.get_account(principal) is not None
    match = _IAM_ARN.fullmatch(principal)
    if match is None or "*" in principal:
        return False
    account, resource = match["account"], match["resource"]
    if svc.identity.get_account(account) is None:
        return False
    if match["service"] == "iam" and resource == "root":
        return True
    kind, _, rest = resource.partition("/")
    name = rest.rsplit("/", 1)[-1]
    if match["service"] == "iam" and kind == "user":
        return svc.identity.get_user(account, name) is not None
    if match["service"] == "iam" and kind == "role":
        return svc.identity.get_role(account, name) is not None
    if match["service"] == "sts" and kind == "assumed-role":
        role = rest.split("/", 1)[0]
        return svc.identity.get_role(account, role) is not None
    return False


def validate_new_policy(
    svc: KmsService, caller: Caller, key: KeyRecord, text: str, p: dict[str, Any]
) -> str:
    """Every check a key policy passes before it is stored on ``key``."""
    check_policy(text)
    try:
        parse_policy(text, PolicyKind.RESOURCE)
    except MalformedPolicy as exc:
        raise MalformedPolicyDocumentException(exc.reason) from None
    if not all(_principal_exists(svc, principal) for principal in _aws_principals(text)):
        raise MalformedPolicyDocumentException(INVALID_PRINCIPALS)
    if not p.get("BypassPolicyLockoutSafetyCheck"):
        decision = svc.access.decide_key(caller, "kms:PutKeyPolicy", key, p, policy=text)
        if not decision.allowed:
            raise MalformedPolicyDocumentException(LOCKOUT)
    return text


def _policy_name(p: dict[str, Any]) -> str:
    name = str(p.get("PolicyName", "default"))
    if name != "default":
        raise NotFoundException("No such policy exists")
    return name


def get_key_policy(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = authorized_key(
        svc, caller, p["KeyId"], action="GetKeyPolicy", allow_alias=False, params=p
    )
    return {"Policy": key.policy, "PolicyName": _policy_name(p)}


def put_key_policy(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = authorized_key(
        svc, caller, p["KeyId"], action="PutKeyPolicy", allow_alias=False, params=p
    )
    _policy_name(p)
    policy = validate_new_policy(svc, caller, key, p["Policy"], p)
    svc.keys.update_key(dataclasses.replace(key, policy=policy))
    return {}


def list_key_policies(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    authorized_key(svc, caller, p["KeyId"], action="ListKeyPolicies", allow_alias=False, params=p)
    rows, paging = page(
        lambda after, limit: ["default"][: limit if after is None else 0],
        lambda name: name,
        p,
        listing="policies",
        default=100,
        maximum=1000,
    )
    return {"PolicyNames": list(rows), **paging}
