"""Principals and small builders shared by the policy engine's tests."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from strongroom.domain.principal import Principal, PrincipalType
from strongroom.policy import (
    ConditionValue,
    PolicyDocument,
    PolicyKind,
    RequestContext,
    decide_identity,
    parse_policy,
)

ACCOUNT = "111122223333"
OTHER = "444455556666"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

ROOT = Principal.root(ACCOUNT)
ALICE = Principal(
    ACCOUNT,
    f"arn:aws:iam::{ACCOUNT}:user/engineering/alice",
    PrincipalType.USER,
    "AIDAALICEXAMPLE",
    "alice",
    tags={"Team": "red", "CostCenter": "42"},
)
BOB = Principal(OTHER, f"arn:aws:iam::{OTHER}:user/bob", PrincipalType.USER, "AIDABOB", "bob")
SESSION = Principal(
    ACCOUNT,
    f"arn:aws:sts::{ACCOUNT}:assumed-role/app/worker-1",
    PrincipalType.ASSUMED_ROLE,
    "AROAAPP:worker-1",
    "app",
    role_arn=f"arn:aws:iam::{ACCOUNT}:role/app",
    session_name="worker-1",
)


def doc(*statements: Mapping[str, Any], version: str | None = "2012-10-17") -> str:
    body: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        body = {"Version": version, **body}
    return json.dumps(body)


def identity(*statements: Mapping[str, Any], version: str | None = "2012-10-17") -> PolicyDocument:
    return parse_policy(doc(*statements, version=version), PolicyKind.IDENTITY)


def ctx(
    action: str = "kms:Decrypt",
    resource: str = KEY_ARN,
    principal: Principal = ALICE,
    **keys: ConditionValue,
) -> RequestContext:
    """Keys given as keyword arguments: ``aws__SourceIp`` -> ``aws:sourceip``."""
    names = {name.replace("__", ":").replace("_SLASH_", "/").lower(): v for name, v in keys.items()}
    return RequestContext(action, resource, principal, names)


def condition_holds(
    condition: Mapping[str, Any],
    keys: Mapping[str, ConditionValue],
    *,
    principal: Principal = ALICE,
    version: str | None = "2012-10-17",
) -> bool:
    """Whether an Allow statement with this Condition block allows a request with these keys."""
    policy = identity(
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": condition},
        version=version,
    )
    request = RequestContext("kms:Decrypt", KEY_ARN, principal, dict(keys))
    return decide_identity([("p", policy)], request).allowed
