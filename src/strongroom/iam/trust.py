"""Who may assume a role: the role's trust policy and, where AWS requires it, the caller's own
identity policies.

AWS's rules for ``sts:AssumeRole`` (and ``sts:TagSession`` when session tags are passed):

* an explicit deny in the trust policy or in the caller's identity policies refuses;
* a trust statement naming the caller itself (its user ARN, its role for role chaining, its
  session ARN, or ``*``) is enough for a caller of the role's own account;
* a trust statement naming only the caller's account (``arn:aws:iam::A:root``) delegates to IAM:
  an identity policy of the caller must also allow the action on the role's ARN;
* a caller of another account always needs both.

A role that does not exist is refused exactly like one that does not trust the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.identity import OwnerKind, RoleRecord
from strongroom.errors import AccessDeniedException, ValidationException
from strongroom.iam.service import IamService
from strongroom.policy import (
    Outcome,
    PolicyKind,
    PrincipalMatch,
    RequestContext,
    decide_identity,
    evaluate_policy,
    parse_policy,
)

__all__ = ["authorize_assume_role", "find_role", "trust_keys"]

_ROLE_ARN = re.compile(r"arn:[a-z][a-z0-9-]*:iam::(?P<account>\d{12}):role/(?:.*/)?(?P<name>[^/]+)")


def find_role(iam: IamService, role_arn: str) -> RoleRecord | None:
    """The role ``role_arn`` names exactly (path and case included), or None."""
    if not role_arn.startswith("arn:") or role_arn.count(":") < 5:
        raise ValidationException("Request ARN is invalid")
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None:
        return None
    role = iam.storage.get_role(match["account"], match["name"])
    return role if role is not None and role.arn == role_arn else None


def trust_keys(
    iam: IamService,
    caller: Caller,
    role: RoleRecord,
    *,
    session_name: str,
    tags: Mapping[str, str],
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """The condition keys of an AssumeRole request (lower-cased names). The keys that follow
    from the principal alone (``aws:PrincipalArn``, ``aws:PrincipalTag/*`` ...) are added by
    :class:`RequestContext` itself."""
    now = iam.clock.now()
    keys: dict[str, Any] = {
        "aws:sourceip": caller.source_ip,
        "aws:securetransport": caller.secure_transport,
        "aws:currenttime": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:epochtime": int(now),
        "aws:requestedregion": caller.region,
        "sts:rolesessionname": session_name,
    }
    if "ExternalId" in params:
        keys["sts:externalid"] = str(params["ExternalId"])
    if "SourceIdentity" in params:
        keys["sts:sourceidentity"] = str(params["SourceIdentity"])
    if tags:
        keys["aws:tagkeys"] = list(tags)
        for key, value in tags.items():
            keys[f"aws:requesttag/{key.lower()}"] = value
    if "TransitiveTagKeys" in params:
        keys["sts:transitivetagkeys"] = list(params["TransitiveTagKeys"])
    role_tags = iam.storage.get_principal_tags(role.account, OwnerKind.ROLE, role.name)
    for key, value in role_tags.items():
        keys[f"aws:resourcetag/{key.lower()}"] = value
    keys["aws:resourceaccount"] = role.account
    return keys


def _allowed(iam: IamService, caller: Caller, role: RoleRecord, action: str, keys: Any) -> bool:
    principal = caller.principal
    context = RequestContext(action, role.arn, principal, keys)
    trust = parse_policy(role.trust_policy, PolicyKind.TRUST)
    result = evaluate_policy(trust, f"role/{role.name} trust policy", context, check_principal=True)
    identity = decide_identity(
        [(p.name, parse_policy(p.text, PolicyKind.IDENTITY)) for p in iam.policies_for(principal)],
        context,
    )
    if result.denies or identity.outcome is Outcome.EXPLICIT_DENY:
        return False
    matches = {ref.principal_match for ref in result.allows}
    if PrincipalMatch.DIRECT in matches and principal.account == role.account:
        return True
    trusted = PrincipalMatch.DIRECT in matches or PrincipalMatch.ACCOUNT in matches
    return trusted and identity.allowed


def authorize_assume_role(
    iam: IamService,
    caller: Caller,
    role_arn: str,
    role: RoleRecord | None,
    *,
    session_name: str,
    tags: Mapping[str, str],
    params: Mapping[str, Any],
) -> None:
    """Raise AccessDenied unless ``caller`` may assume ``role`` (and tag the session)."""
    actions = ["sts:AssumeRole", "sts:TagSession"] if tags else ["sts:AssumeRole"]
    keys = (
        None
        if role is None
        else trust_keys(iam, caller, role, session_name=session_name, tags=tags, params=params)
    )
    for action in actions:
        if role is None or not _allowed(iam, caller, role, action, keys):
            raise AccessDeniedException(
                f"User: {caller.principal.arn} is not authorized to perform: {action} "
                f"on resource: {role_arn}"
            )
