"""Why a request is allowed or denied: the decision and the statements that made it.

AWS cannot tell you; we can. Served by ``strongroom policy explain`` and by the admin-only
``StrongroomAdmin.ExplainDecision`` API target (an account root explaining within its account).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.domain.caller import Caller
from strongroom.errors import AccessDeniedException, NotFoundException
from strongroom.iam.lookup import UnknownPrincipal, principal_from_arn
from strongroom.kms.resolve import request_alias, resolve_key
from strongroom.kms.service import KmsService
from strongroom.policy.authorizer import KmsDecision

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
) -> tuple[KmsDecision, str]:
    """Evaluate ``action`` for the principal ``principal_arn`` as the server would; returns the
    decision and the resource it is about (the key's ARN, or ``*``)."""
    try:
        principal = principal_from_arn(svc.identity, principal_arn)
    except UnknownPrincipal as exc:
        raise NotFoundException(str(exc)) from None
    caller = Caller(principal, region, "explain", source_ip=source_ip)
    params = with_defaults(action, params)
    if key_id is None or action in ACCOUNT_ACTIONS:
        return svc.access.decide_account(caller, action, params), "*"
    key = resolve_key(svc, caller, key_id, allow_alias=True)
    decision = svc.access.decide_key(
        caller, action, key, params, request_alias=request_alias(key_id)
    )
    return decision, key.arn


def decision_json(decision: KmsDecision) -> dict[str, Any]:
    return {
        "Decision": "ALLOW" if decision.allowed else "DENY",
        "Denial": decision.denial.name if decision.denial else None,
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
    """``StrongroomAdmin.ExplainDecision``: only an account root, only within its own account."""
    principal_arn = str(p.get("PrincipalArn", ""))
    if not caller.principal.is_root or f"::{caller.account}:" not in principal_arn:
        raise AccessDeniedException(
            f"User: {caller.principal_arn} is not authorized to perform: "
            "strongroom:ExplainDecision: only an account root may explain decisions for the "
            "principals of its own account"
        )
    decision, _ = explain(
        svc,
        principal_arn=principal_arn,
        action=str(p.get("Action", "")),
        region=caller.region,
        key_id=p.get("KeyId"),
        params={k: v for k, v in p.items() if k in _EXPLAINED_MEMBERS},
        source_ip=str(p.get("SourceIp", caller.source_ip)),
    )
    return decision_json(decision)
