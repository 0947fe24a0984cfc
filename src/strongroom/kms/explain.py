"""Why a request is allowed or denied: the decision and the statements that made it.

AWS cannot tell you; we can. Served by ``strongroom policy explain`` and by the admin-only
``StrongroomAdmin.ExplainDecision`` API target (an account root explaining within its account).
The API target tells one account nothing about another: another account's principal, key or alias
is answered exactly as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.domain.caller import Caller
from strongroom.domain.principal import Principal
from strongroom.errors import AccessDeniedException, NotFoundException
from strongroom.iam.lookup import (
    UnknownPrincipal,
    parse_principal_arn,
    principal_for_arn,
    principal_from_arn,
)
from strongroom.kms.resolve import is_key_id, parse_arn, request_alias, resolve_key
from strongroom.kms.service import KmsService
from strongroom.policy.decision import Decision

__all__ = ["ACCOUNT_ACTIONS", "decision_json", "explain", "explain_operation", "with_defaults"]

# The request members an explanation may be given (the ones condition keys read).
_EXPLAINED_MEMBERS = (
    "EncryptionContext",
    "EncryptionAlgorithm",
    "SigningAlgorithm",
    "MessageType",
    "MacAlgorithm",
    "KeyAgreementAlgorithm",
    "KeyPairSpec",
)

# Actions governed by identity policies alone (no key policy applies).
ACCOUNT_ACTIONS = frozenset(
    {"kms:CreateKey", "kms:ListKeys", "kms:ListAliases", "kms:GenerateRandom"}
)
# The defaults a real request's condition keys see when the member is left out (kms-spec.md 7.1).
_DEFAULTED = {
    "EncryptionAlgorithm": (
        "SYMMETRIC_DEFAULT",
        frozenset(
            {
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
                "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:GenerateDataKeyPair",
                "kms:GenerateDataKeyPairWithoutPlaintext",
            }
        ),
    ),
    "MessageType": ("RAW", frozenset({"kms:Sign", "kms:Verify"})),
}


def with_defaults(action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with the members a real ``action`` request defaults, as its policy sees them."""
    filled = dict(params)
    for member, (default, actions) in _DEFAULTED.items():
        if action in actions and member not in filled:
            filled[member] = default
    return filled


def explain(
    svc: KmsService,
    *,
    principal_arn: str,
    action: str,
    region: str,
    key_id: str | None,
    params: Mapping[str, Any],
    source_ip: str = "127.0.0.1",
) -> tuple[Decision, str]:
    """Evaluate ``action`` for the principal ``principal_arn`` as the server would; returns the
    decision and the resource it is about (the key's ARN, or ``*``)."""
    try:
        principal = principal_from_arn(svc.identity, principal_arn)
    except UnknownPrincipal as exc:
        raise NotFoundException(str(exc)) from None
    caller = Caller(principal, region, "explain", source_ip=source_ip)
    return _decide(svc, caller, action, key_id, params)


def _decide(
    svc: KmsService, caller: Caller, action: str, key_id: str | None, params: Mapping[str, Any]
) -> tuple[Decision, str]:
    params = with_defaults(action, params)
    if key_id is None or action in ACCOUNT_ACTIONS:
        return svc.access.decide_account(caller, action, params), "*"
    key = resolve_key(svc, caller, key_id, allow_alias=True)
    decision = svc.access.decide_key(
        caller, action, key, params, request_alias=request_alias(key_id)
    )
    return decision, key.arn


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "Decision": "ALLOW" if decision.allowed else "DENY",
        "Denial": decision.denial.name if decision.denial is not None else None,
        "Statements": [
            {
                "Policy": ref.policy,
                "Sid": ref.sid,
                "Index": ref.index,
                "Effect": ref.effect.value,
                "PrincipalMatch": ref.principal_match.name if ref.principal_match else None,
            }
            for ref in decision.statements
        ],
        "Explanation": decision.explain(),
    }


def explain_operation(svc: KmsService, caller: Caller, p: dict[str, Any]) -> dict[str, Any]:
    """``StrongroomAdmin.ExplainDecision``: only an account root, only within its own account.

    ``p`` is the request validated against the target's input shape
    (``ServiceModel.validate_admin``), so its members have their modelled types.
    """
    if not caller.principal.is_root:
        raise AccessDeniedException(
            f"User: {caller.principal_arn} is not authorized to perform: "
            "strongroom:ExplainDecision: only an account root may explain decisions for the "
            "principals of its own account"
        )
    principal = _own_principal(svc, caller, p["PrincipalArn"])
    action: str = p["Action"]
    explained = Caller(
        principal, caller.region, "explain", source_ip=p.get("SourceIp", caller.source_ip)
    )
    key_id: str | None = p.get("KeyId")
    if key_id is not None and action not in ACCOUNT_ACTIONS:
        _refuse_other_accounts_key(explained, key_id)
    params = {k: v for k, v in p.items() if k in _EXPLAINED_MEMBERS}
    decision, _ = _decide(svc, explained, action, key_id, params)
    return decision_json(decision)


def _own_principal(svc: KmsService, caller: Caller, principal_arn: str) -> Principal:
    """The principal ``principal_arn`` names if it is one of the caller's account (same account
    field, same partition, and it exists). Anything else, including a real principal of another
    account, gets one and the same answer, so that nothing tells one account what another has."""
    parsed = parse_principal_arn(principal_arn)
    if parsed is not None and (parsed.account, parsed.partition) == (
        caller.account,
        caller.partition,
    ):
        try:
            return principal_for_arn(svc.identity, parsed)
        except UnknownPrincipal:
            pass
    raise NotFoundException(f"Principal {principal_arn} is not found.")


def _refuse_other_accounts_key(caller: Caller, key_id: str) -> None:
    """A key or alias ARN of another account is answered as ``resolve_key`` answers one that does
    not exist there, without looking: whether it exists is no business of the caller's account.
    A malformed ARN is left to ``resolve_key``, whose answer to one depends on the text alone."""
    if not key_id.startswith("arn:"):
        return  # a key id or alias name: resolved in the caller's own account
    account, resource = parse_arn(caller, key_id)
    if account == caller.account:
        return
    if resource.startswith("alias/"):
        raise NotFoundException(f"Alias {caller.alias_arn(resource, account)} is not found.")
    reference = resource.removeprefix("key/")
    if resource.startswith("key/") and is_key_id(reference):
        raise NotFoundException(f"Key '{caller.key_arn(reference, account)}' does not exist")
