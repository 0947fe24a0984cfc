"""Who may call which IAM operation: the account root may do everything in its own account; any
other principal needs an identity-policy Allow for ``iam:<Action>`` on the resource, and no Deny.
IAM calls never reach into another account.

The resource is the ARN of the user, group, role or policy the call is about (with its stored
path), or for account-level listings the ARN prefix AWS names (``arn:aws:iam::A:user/`` for
ListUsers), so ``"Resource": "*"`` and ``"arn:aws:iam::A:user/*"`` both match as in AWS.
"""

from __future__ import annotations

import time
from typing import Any

from strongroom.domain import record
from strongroom.domain.caller import Caller
from strongroom.domain.identity import GroupRecord, RoleRecord, UserRecord
from strongroom.errors import AccessDeniedException
from strongroom.iam.api.common import Params, entity_arn, user_name_or_self
from strongroom.iam.service import IamService
from strongroom.policy import PolicyKind, RequestContext, decide_identity, parse_policy
from strongroom.policy.decision import Decision, Denial

__all__ = ["authorize", "authorize_identity", "resource_for"]

_LISTINGS = {
    "ListUsers": "user",
    "ListGroups": "group",
    "ListRoles": "role",
    "ListPolicies": "policy",
}
_POLICY_ARN_ACTIONS = frozenset({"GetPolicy", "GetPolicyVersion", "DeletePolicy"})
_TAGGING = frozenset({"CreateUser", "CreateRole", "TagUser", "TagRole"})


def _stored_path(iam: IamService, caller: Caller, kind: str, name: str) -> str | None:
    store = iam.storage
    found: UserRecord | GroupRecord | RoleRecord | None
    if kind == "user":
        found = store.get_user(caller.account, name)
    elif kind == "group":
        found = store.get_group(caller.account, name)
    else:
        found = store.get_role(caller.account, name)
    return None if found is None else found.path


def _named(iam: IamService, caller: Caller, kind: str, name: str, params: Params) -> str:
    """A user's, group's or role's ARN: with its stored path, or the one it is being made with."""
    path = _stored_path(iam, caller, kind, name) or params.get("Path", "/")
    return entity_arn(caller, kind, path, name)


def resource_for(iam: IamService, caller: Caller, action: str, params: Params) -> str:
    """The ARN an IAM request acts on, as its authorization sees it."""
    if action in _LISTINGS:
        return entity_arn(caller, _LISTINGS[action], params.get("PathPrefix", "/"), "")
    if action == "CreatePolicy":
        return entity_arn(caller, "policy", params.get("Path", "/"), params["PolicyName"])
    if action in _POLICY_ARN_ACTIONS:
        return str(params["PolicyArn"])
    if "GroupName" in params:
        return _named(iam, caller, "group", params["GroupName"], params)
    if "RoleName" in params:
        return _named(iam, caller, "role", params["RoleName"], params)
    name = user_name_or_self(caller, params)
    if name is None:
        return caller.principal.arn
    return _named(iam, caller, "user", name, params)


def _keys(iam: IamService, caller: Caller, action: str, params: Params) -> dict[str, Any]:
    now = iam.clock.now()
    keys: dict[str, Any] = {
        "aws:sourceip": caller.source_ip,
        "aws:securetransport": caller.secure_transport,
        "aws:currenttime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "aws:epochtime": int(now),
        "aws:requestedregion": caller.region,
    }
    tags = params.get("Tags") if action in _TAGGING else None
    if tags:
        keys["aws:tagkeys"] = [tag["Key"] for tag in tags]
        keys.update({f"aws:requesttag/{tag['Key'].lower()}": tag["Value"] for tag in tags})
    if action in ("UntagUser", "UntagRole"):
        keys["aws:tagkeys"] = list(params["TagKeys"])
    return keys


def _recorded(permission: str, resource: str, *, allowed: bool, by: tuple[object, ...]) -> None:
    found = record.current()
    if found is not None:
        found.decided(record.Decided(permission, resource, allowed, by))


def _account_of(resource: str) -> str:
    parts = resource.split(":")
    return parts[4] if len(parts) > 5 else ""


def authorize(iam: IamService, caller: Caller, action: str, params: Params) -> None:
    """Raise AccessDenied unless ``caller`` may perform ``iam:<action>`` on its resource."""
    resource = resource_for(iam, caller, action, params)
    keys = _keys(iam, caller, action, params)
    authorize_identity(iam, caller, f"iam:{action}", resource, keys, own=_account_of(resource))


def authorize_identity(
    iam: IamService,
    caller: Caller,
    permission: str,
    resource: str,
    keys: dict[str, Any] | None = None,
    *,
    own: str | None = None,
) -> None:
    """Raise AccessDenied unless identity policies allow ``caller`` ``permission`` on
    ``resource`` (the account root always may, in its own account): IAM's rule, and any other
    service's whose authorization is identity policies alone (``cloudtrail:LookupEvents`` on
    ``*``). ``own`` is the account the resource belongs to, when it names one."""
    principal = caller.principal
    if own is not None and own not in (caller.account, "aws"):
        decision = Decision.deny(Denial.NO_IDENTITY_ALLOW)
    elif principal.is_root:
        _recorded(permission, resource, allowed=True, by=("account root",))
        return
    else:
        policies = [
            (named.name, parse_policy(named.text, PolicyKind.IDENTITY))
            for named in iam.policies_for(principal)
        ]
        if keys is None:
            keys = _keys(iam, caller, permission, {})
        context = RequestContext(permission, resource, principal, keys)
        decision = decide_identity(policies, context)
    _recorded(permission, resource, allowed=decision.allowed, by=decision.statements)
    if not decision.allowed:
        raise AccessDeniedException(decision.message(principal.arn, permission, resource))
