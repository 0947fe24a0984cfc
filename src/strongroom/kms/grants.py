"""The grant operations that change grants: CreateGrant, RetireGrant, RevokeGrant (kms-spec.md
section 9); listing them is ``strongroom.kms.grant_lists``.

A grant is allow-only: it lets its grantee use a key for the operations it lists, under optional
encryption-context constraints. Grants are effective as soon as they are written (no eventual
consistency here); grant tokens (``strongroom.kms.grant_tokens``) are still issued and checked.
How grants take part in a decision is ``KmsService.decide_key``.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from strongroom.domain import record
from strongroom.domain.actions import Action
from strongroom.domain.caller import Caller
from strongroom.domain.keys import GrantRecord, KeyRecord, key_arn
from strongroom.errors import (
    AccessDeniedException,
    InvalidGrantIdException,
    LimitExceededException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from strongroom.kms.grant_match import grant_operations_for, grantee_names, within
from strongroom.kms.grant_tokens import issue_token
from strongroom.kms.resolve import resolve_key
from strongroom.kms.service import KmsService
from strongroom.kms.states import dry_run, require_state
from strongroom.policy.decision import Decision, Denial

__all__ = [
    "CONSTRAINT_KINDS",
    "GRANT_ID",
    "MAX_GRANTS_PER_KEY",
    "create_grant",
    "one_of",
    "principal_of",
    "retire_grant",
    "revoke_grant",
]

MAX_GRANTS_PER_KEY = 50_000
_MAX_PAIRS = 8
_MAX_VALUE = 384
GRANT_ID = re.compile(r"[0-9a-f]{64}")
CONSTRAINT_KINDS = ("EncryptionContextEquals", "EncryptionContextSubset")

Context = dict[str, str] | None


def principal_of(caller: Caller, value: str | None) -> str | None:
    """A principal as grants store it: a bare account id becomes the account's root ARN."""
    if value is not None and re.fullmatch(r"\d{12}", value):
        return f"arn:{caller.partition}:iam::{value}:root"
    return value


def one_of(p: dict[str, Any], first: str, second: str) -> str | None:
    if p.get(first) is not None and p.get(second) is not None:
        raise ValidationException(f"Specify either {first} or {second}, not both.")
    value = p.get(first) or p.get(second)
    return None if value is None else str(value)


def _constraints(p: dict[str, Any]) -> tuple[Context, Context]:
    """(EncryptionContextEquals, EncryptionContextSubset); an empty map counts as absent."""
    given = p.get("Constraints") or {}
    if given.get("SourceArn") is not None:
        raise UnsupportedOperationException("The SourceArn grant constraint is not yet supported.")
    equals, subset = (given.get(kind) or None for kind in CONSTRAINT_KINDS)
    if equals is not None and subset is not None:
        raise ValidationException(
            "A grant can have only one encryption context constraint: "
            "EncryptionContextEquals or EncryptionContextSubset."
        )
    for pairs in (equals, subset):
        if pairs is not None and (
            len(pairs) > _MAX_PAIRS or any(len(v) > _MAX_VALUE for v in pairs.values())
        ):
            raise ValidationException(
                "A grant constraint can have at most 8 encryption context pairs, "
                "each value at most 384 characters."
            )
    return equals, subset


def _check_operations(key: KeyRecord, operations: tuple[str, ...]) -> None:
    if not operations:
        raise ValidationException("A grant must list at least one operation.")
    bad = [op for op in operations if op not in grant_operations_for(key.key_spec, key.key_usage)]
    if bad:
        raise ValidationException(
            f"The grant operations [{', '.join(bad)}] are not valid for a KMS key with "
            f"KeySpec {key.key_spec.value} and KeyUsage {key.key_usage.value}."
        )


def _narrow_enough(
    svc: KmsService, caller: Caller, key: KeyRecord, p: dict[str, Any], child: GrantRecord
) -> bool:
    """Some grant of the caller's on the key that lists CreateGrant covers ``child``."""
    tokens = [svc.access.token_grant(key.region, token) for token in p.get("GrantTokens") or ()]
    mine = svc.access.grants(key).for_principal(caller.principal)
    return any(
        "CreateGrant" in parent.operations
        and (parent.account, parent.key_id) == (key.account, key.key_id)
        and parent.grantee_principal in grantee_names(caller.principal)
        and within(child.operations, child.context_equals, child.context_subset, parent)
        for parent in mine + tokens
    )


def _authorize_create(
    svc: KmsService, caller: Caller, key: KeyRecord, p: dict[str, Any], child: GrantRecord
) -> None:
    """``kms:CreateGrant`` by policy (any operations), or by a grant listing CreateGrant (then the
    new grant may be no broader than that one)."""
    for_resource = caller.via_service is not None  # made by a registered integrated service
    decision = svc.access.decide_key(
        caller, "kms:CreateGrant", key, {**p, "GrantIsForAWSResource": for_resource}
    )
    if decision.allowed and decision.grants and not _narrow_enough(svc, caller, key, p, child):
        decision = Decision.deny(Denial.NO_RESOURCE_ALLOW)
    # Recorded in the call's record (its audit event names the key), then raised if denied.
    svc.access.enforce(caller, "kms:CreateGrant", key.arn, decision)


def _same(a: GrantRecord, b: GrantRecord) -> bool:
    return (
        a.grantee_principal == b.grantee_principal
        and a.retiring_principal == b.retiring_principal
        and sorted(a.operations) == sorted(b.operations)
        and a.context_equals == b.context_equals
        and a.context_subset == b.context_subset
    )


def _new_grant(caller: Caller, key: KeyRecord, p: dict[str, Any], now: float) -> GrantRecord:
    grantee = one_of(p, "GranteePrincipal", "GranteeServicePrincipal")
    if grantee is None:
        raise ValidationException("GranteePrincipal or GranteeServicePrincipal is required.")
    equals, subset = _constraints(p)
    return GrantRecord(
        account=key.account,
        region=key.region,
        key_id=key.key_id,
        grant_id=secrets.token_hex(32),
        name=p.get("Name"),
        grantee_principal=str(principal_of(caller, grantee)),
        retiring_principal=principal_of(
            caller, one_of(p, "RetiringPrincipal", "RetiringServicePrincipal")
        ),
        operations=tuple(dict.fromkeys(p["Operations"])),
        context_equals=equals,
        context_subset=subset,
        issuing_account=caller.principal.account_arn,
        created_at=now,
        for_aws_resource=caller.via_service is not None,
    )


def create_grant(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = resolve_key(svc, caller, p["KeyId"], allow_alias=False)
    grant = _new_grant(caller, key, p, svc.clock.now())
    _authorize_create(svc, caller, key, p, grant)
    require_state(key, Action.CREATE_GRANT)
    _check_operations(key, grant.operations)
    existing = None
    if grant.name is not None:
        named = svc.keys.read.grant_by_name(key.account, key.region, key.key_id, grant.name)
        existing = next((g for g in named if _same(g, grant)), None)
    if existing is None and svc.keys.read.count_grants(key.account, key.region, key.key_id) >= (
        MAX_GRANTS_PER_KEY
    ):
        raise LimitExceededException(
            f"The number of grants on key {key.arn} would exceed {MAX_GRANTS_PER_KEY}."
        )
    dry_run(p)
    if existing is None:
        svc.keys.insert_grant(grant)
    else:
        grant = existing
    return {
        "GrantId": grant.grant_id,
        "GrantToken": issue_token(svc.keystore, key.region, grant.grant_id),
    }


def _named_key(svc: KmsService, caller: Caller, p: dict[str, Any]) -> KeyRecord:
    """The key (id or ARN) a RetireGrant / RevokeGrant names with its GrantId."""
    if p.get("KeyId") is None or p.get("GrantId") is None:
        raise ValidationException("Specify either GrantToken, or both KeyId and GrantId.")
    return resolve_key(svc, caller, p["KeyId"], allow_alias=False)


def _named_grant(svc: KmsService, key: KeyRecord, grant_id: str) -> GrantRecord:
    if not GRANT_ID.fullmatch(grant_id):
        raise InvalidGrantIdException("Invalid grant ID.")
    grant = svc.keys.read.get_grant(key.account, key.region, key.key_id, grant_id)
    if grant is None:
        raise NotFoundException(f"Grant ID {grant_id} not found")
    return grant


def _may_retire(
    svc: KmsService, caller: Caller, grant: GrantRecord, p: dict[str, Any]
) -> tuple[bool, tuple[object, ...]]:
    """kms-spec.md 6.3: the retiring principal; the grantee if the grant lists RetireGrant; the
    issuing or key-owning account's principals with ``kms:RetireGrant`` (its root always). An IAM
    deny on ``kms:RetireGrant`` blocks every one of them."""
    arn = key_arn(caller.partition, grant.region, grant.account, grant.key_id)
    decision = svc.access.decide_account(caller, "kms:RetireGrant", p, resource=arn)
    if decision.denial is Denial.IDENTITY_DENY:
        return False, tuple(decision.statements)
    names = grantee_names(caller.principal)
    if grant.retiring_principal in names:
        return True, (f"grant {grant.grant_id} retiring principal",)
    if grant.grantee_principal in names and "RetireGrant" in grant.operations:
        return True, (f"grant {grant.grant_id} grantee",)
    owners = {grant.account, grant.issuing_account.split(":")[4]}
    return caller.account in owners and decision.allowed, tuple(decision.statements)


def retire_grant(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    token = p.get("GrantToken")
    if token is not None:
        grant = svc.access.token_grant(caller.region, token)
    else:
        grant = _named_grant(svc, _named_key(svc, caller, p), p["GrantId"])
    arn = key_arn(caller.partition, grant.region, grant.account, grant.key_id)
    allowed, by = _may_retire(svc, caller, grant, p)
    current = record.current()
    if current is not None:  # the call's record (and audit event) names the grant's key and id
        current.decided(record.Decided("kms:RetireGrant", arn, allowed, by))
        current.grant_id = grant.grant_id
    if not allowed:
        raise AccessDeniedException(
            f"User: {caller.principal_arn} is not authorized to perform: kms:RetireGrant on "
            f"resource: {arn} because it is neither the grant's retiring principal nor a grantee "
            "allowed to retire it"
        )
    dry_run(p)
    svc.keys.delete_grant(grant.account, grant.region, grant.key_id, grant.grant_id)
    return {}


def revoke_grant(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    key = _named_key(svc, caller, p)
    for_resource = caller.via_service is not None
    svc.access.authorize_key(
        caller, "kms:RevokeGrant", key, {**p, "GrantIsForAWSResource": for_resource}
    )
    grant = _named_grant(svc, key, p["GrantId"])
    dry_run(p)
    svc.keys.delete_grant(key.account, key.region, key.key_id, grant.grant_id)
    return {}
