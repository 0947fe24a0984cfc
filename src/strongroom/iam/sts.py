"""The STS operations: GetCallerIdentity, GetSessionToken and AssumeRole.

Parameters arrive validated against botocore's STS model (lengths, patterns, ranges); the rules
here are the ones the model cannot say: who may call what, the role's maximum session duration,
role chaining's one hour, session tags. Authorization of AssumeRole is in :mod:`.trust`.

Session policies (``Policy``, ``PolicyArns``) are refused with a ValidationError rather than
silently ignored: a session policy only ever narrows a session, so ignoring one would grant more
than the caller asked for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.principal import Principal, PrincipalType
from strongroom.errors import AccessDeniedException, ValidationException
from strongroom.iam.service import IamService
from strongroom.iam.sessions import issue_session
from strongroom.iam.trust import authorize_assume_role, find_role

__all__ = ["OPERATIONS", "StsOperation", "assume_role", "get_caller_identity", "get_session_token"]

StsOperation = Callable[[IamService, Caller, dict[str, Any]], dict[str, Any]]

_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_CHAINED_MAX_SECONDS = 3600
_ROOT_SESSION_MAX_SECONDS = 3600
_PACKED_LIMIT = 50 * (128 + 256)  # what fifty tags of the largest size pack into


def get_caller_identity(iam: IamService, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """Who the credentials belong to. Needs no permission and cannot be denied (as in AWS)."""
    principal = caller.principal
    return {"UserId": principal.user_id, "Account": principal.account, "Arn": principal.arn}


def _refuse_mfa(params: dict[str, Any]) -> None:
    if "SerialNumber" in params or "TokenCode" in params:
        raise AccessDeniedException(
            "MultiFactorAuthentication failed with invalid MFA one time pass code. "
        )


def get_session_token(iam: IamService, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """Temporary credentials for a user or an account root, acting as that same principal."""
    principal = caller.principal
    if caller.session_token or principal.type is PrincipalType.ASSUMED_ROLE:
        raise AccessDeniedException("Cannot call GetSessionToken with session credentials")
    _refuse_mfa(params)
    if principal.is_root:  # the root gets at most an hour, silently (as AWS documents)
        duration = min(int(params.get("DurationSeconds", 3600)), _ROOT_SESSION_MAX_SECONDS)
    else:
        duration = int(params.get("DurationSeconds", 43200))
    credentials = issue_session(
        iam,
        principal,
        session_tags={},
        source_access_key_id=caller.access_key_id,
        duration_seconds=duration,
    )
    return {"Credentials": credentials.as_output()}


def _session_tags(params: dict[str, Any]) -> dict[str, str]:
    tags: dict[str, str] = {}
    seen: set[str] = set()
    for tag in params.get("Tags", []):
        key, value = str(tag["Key"]), str(tag["Value"])
        if key.lower() in seen:
            raise ValidationException(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        seen.add(key.lower())
        tags[key] = value
    return tags


def _check_session_name(name: str) -> None:
    """The model's constraints, checked here too: never trust one layer alone."""
    if len(name) < 2 or len(name) > 64:
        bound = "greater than or equal to 2" if len(name) < 2 else "less than or equal to 64"
        constraint = f"Member must have length {bound}"
    elif not _SESSION_NAME.fullmatch(name):
        constraint = "Member must satisfy regular expression pattern: [\\w+=,.@-]*"
    else:
        return
    raise ValidationException(
        f"1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy "
        f"constraint: {constraint}"
    )


def _duration(params: dict[str, Any], max_session: int, principal: Principal) -> int:
    duration = int(params.get("DurationSeconds", 3600))
    if principal.type is PrincipalType.ASSUMED_ROLE and duration > _CHAINED_MAX_SECONDS:
        raise ValidationException(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed "
            "by role chaining."
        )
    if duration > max_session:
        raise ValidationException(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        )
    return duration


def _packed_size(tags: dict[str, str]) -> int:
    used = sum(len(k) + len(v) for k, v in tags.items())
    return min(100, math.ceil(100 * used / _PACKED_LIMIT))


def assume_role(iam: IamService, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """Temporary credentials for a role, if its trust policy (and where AWS requires it, the
    caller's identity policies) allow the caller ``sts:AssumeRole`` (and ``sts:TagSession``)."""
    principal = caller.principal
    if principal.is_root:
        raise AccessDeniedException("Roles may not be assumed by root accounts.")
    if "Policy" in params or "PolicyArns" in params:
        raise ValidationException(
            "Session policies (Policy, PolicyArns) are not supported by this server; attach "
            "the narrower permissions to a role of their own instead."
        )
    _refuse_mfa(params)
    role_arn = str(params["RoleArn"])
    session_name = str(params["RoleSessionName"])
    _check_session_name(session_name)
    tags = _session_tags(params)
    role = find_role(iam, role_arn)
    authorize_assume_role(
        iam, caller, role_arn, role, session_name=session_name, tags=tags, params=params
    )
    assert role is not None  # authorization refuses a role that does not exist
    duration = _duration(params, role.max_session_duration, principal)
    assumed = Principal.assumed_role(
        account=role.account,
        role_arn=role.arn,
        role_id=role.role_id,
        session_name=session_name,
        tags=tags,
        partition=iam.partition,
    )
    credentials = issue_session(
        iam,
        assumed,
        session_tags=tags,
        source_access_key_id=caller.access_key_id,
        duration_seconds=duration,
    )
    result: dict[str, Any] = {
        "Credentials": credentials.as_output(),
        "AssumedRoleUser": {"AssumedRoleId": assumed.user_id, "Arn": assumed.arn},
    }
    if tags:
        result["PackedPolicySize"] = _packed_size(tags)
    return result


OPERATIONS: dict[str, StsOperation] = {
    "GetCallerIdentity": get_caller_identity,
    "GetSessionToken": get_session_token,
    "AssumeRole": assume_role,
}
