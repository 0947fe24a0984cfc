"""KMS's authorization rules on top of the policy engine (kms-spec.md 6.1-6.3), in one place.

A key policy is required: unless it allows the request, the request is denied whatever identity
policies say. A statement naming the caller (user, role, session, ``*``) allows on its own; one
naming the caller's *account* (``arn:aws:iam::A:root``) lets the account's identity policies
decide, except for the account root, which that statement allows directly. Cross-account
requests need the key policy and the caller's identity policies both, and only some actions can
ever work across accounts. Any explicit deny wins. Otherwise a grant on the key for the caller
allows on its own (:func:`allow_by_grants`), across accounts too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from strongroom.domain.actions import Action
from strongroom.policy.document import PolicyDocument
from strongroom.policy.evaluate import (
    Outcome,
    PrincipalMatch,
    RequestContext,
    StatementRef,
    decide_identity,
    evaluate_policy,
)
from strongroom.policy.grammar import Effect

__all__ = [
    "CROSS_ACCOUNT_ACTIONS",
    "Denial",
    "KmsDecision",
    "allow_by_grants",
    "decide_account_action",
    "decide_key_access",
]

KEY_POLICY = "key policy"

# The only actions that can ever be allowed on another account's key (the action table's trait).
CROSS_ACCOUNT_ACTIONS = frozenset(a.permission for a in Action if a.traits.cross_account)


class Denial(StrEnum):
    """Why a request was denied, worded as the tail of AWS's AccessDeniedException message."""

    NO_RESOURCE_ALLOW = "because no resource-based policy allows the {action} action"
    NO_IDENTITY_ALLOW = "because no identity-based policy allows the {action} action"
    RESOURCE_DENY = "with an explicit deny in a resource-based policy"
    IDENTITY_DENY = "with an explicit deny in an identity-based policy"


@dataclass(frozen=True, slots=True)
class KmsDecision:
    allowed: bool
    denial: Denial | None
    statements: tuple[StatementRef, ...]
    grants: tuple[str, ...] = ()  # ids of the grants that allowed (none if policies did)

    def message(self, principal_arn: str, action: str, resource: str) -> str:
        """AWS's AccessDeniedException message for this denial."""
        assert self.denial is not None
        reason = self.denial.value.format(action=action)
        return (
            f"User: {principal_arn} is not authorized to perform: {action} on resource: "
            f"{resource} {reason}"
        )

    def explain(self) -> str:
        """The decision and the statements that made it, one per line."""
        if self.allowed:
            head = "ALLOW"
        else:
            assert self.denial is not None
            head = "DENY: " + _DENIAL_TEXT[self.denial]
        lines = [head]
        for ref in self.statements:
            sid = f"Sid {ref.sid!r}" if ref.sid else f"statement #{ref.index + 1}"
            how = ""
            if ref.principal_match is not None:
                how = f", principal matched {_MATCH_TEXT[ref.principal_match]}"
            lines.append(f"  {ref.effect.value} by {ref.policy}: {sid}{how}")
        if not self.statements:
            lines.append("  (no statement matched the request)")
        return "\n".join(lines)


_DENIAL_TEXT = {
    Denial.NO_RESOURCE_ALLOW: "the key policy allows neither the caller nor its account",
    Denial.NO_IDENTITY_ALLOW: "the key policy leaves it to identity policies, and none allows it",
    Denial.RESOURCE_DENY: "an explicit deny in the key policy",
    Denial.IDENTITY_DENY: "an explicit deny in an identity policy",
}
_MATCH_TEXT = {
    PrincipalMatch.DIRECT: "directly",
    PrincipalMatch.ACCOUNT: "through its account",
    PrincipalMatch.NONE: "not at all",
}


def _allow(*groups: Sequence[StatementRef]) -> KmsDecision:
    return KmsDecision(True, None, tuple(ref for group in groups for ref in group))


def _deny(denial: Denial, *groups: Sequence[StatementRef]) -> KmsDecision:
    return KmsDecision(False, denial, tuple(ref for group in groups for ref in group))


def _identity(
    ctx: RequestContext, identity: Sequence[tuple[str, PolicyDocument]]
) -> tuple[list[StatementRef], list[StatementRef]]:
    allows: list[StatementRef] = []
    denies: list[StatementRef] = []
    for name, document in identity:
        result = evaluate_policy(document, name, ctx, check_principal=False)
        allows.extend(result.allows)
        denies.extend(result.denies)
    return allows, denies


def decide_key_access(
    ctx: RequestContext,
    key_account: str,
    key_policy: PolicyDocument,
    identity: Sequence[tuple[str, PolicyDocument]],
) -> KmsDecision:
    """May ``ctx.principal`` do ``ctx.action`` on the key (``ctx.resource``)?

    ``identity`` holds the caller's identity-based policies (empty for an account root).
    """
    principal = ctx.principal
    key_result = evaluate_policy(key_policy, KEY_POLICY, ctx, check_principal=True)
    if key_result.denies:
        return _deny(Denial.RESOURCE_DENY, key_result.denies)
    id_allows, id_denies = _identity(ctx, identity) if not principal.is_root else ([], [])
    if id_denies:
        return _deny(Denial.IDENTITY_DENY, id_denies)
    same_account = principal.account == key_account
    if not same_account and ctx.action not in CROSS_ACCOUNT_ACTIONS:
        return _deny(Denial.NO_RESOURCE_ALLOW)
    direct = [
        ref
        for ref in key_result.allows
        if ref.principal_match is PrincipalMatch.DIRECT
        or (ref.principal_match is PrincipalMatch.ACCOUNT and principal.is_root)
    ]
    delegated = [r for r in key_result.allows if r.principal_match is PrincipalMatch.ACCOUNT]
    if same_account:
        if direct:
            return _allow(direct)
        if delegated and id_allows:
            return _allow(delegated, id_allows)
        if delegated:
            return _deny(Denial.NO_IDENTITY_ALLOW, delegated)
        return _deny(Denial.NO_RESOURCE_ALLOW)
    if not (direct or delegated):
        return _deny(Denial.NO_RESOURCE_ALLOW)
    if principal.is_root or id_allows:
        return _allow(direct or delegated, id_allows)
    return _deny(Denial.NO_IDENTITY_ALLOW, direct or delegated)


def allow_by_grants(decision: KmsDecision, grant_id: str, name: str | None) -> KmsDecision:
    """Step 5 of kms-spec.md 6.2: a grant on the key that allows the request (``grant_id``, with
    its ``name``) turns an implicit deny into an allow; an explicit deny stands."""
    if decision.allowed or decision.denial in _EXPLICIT:
        return decision
    ref = StatementRef(f"grant {grant_id}", name, 0, Effect.ALLOW, PrincipalMatch.DIRECT)
    return KmsDecision(True, None, (ref,), (grant_id,))


_EXPLICIT = frozenset({Denial.RESOURCE_DENY, Denial.IDENTITY_DENY})


def decide_account_action(
    ctx: RequestContext, identity: Sequence[tuple[str, PolicyDocument]]
) -> KmsDecision:
    """Actions with no key (CreateKey, ListKeys, ListAliases, GenerateRandom) and the alias half of
    the alias operations: identity policies alone; the account root may always."""
    if ctx.principal.is_root:
        return _allow()
    decision = decide_identity(identity, ctx)
    if decision.outcome is Outcome.ALLOW:
        return _allow(decision.statements)
    if decision.outcome is Outcome.EXPLICIT_DENY:
        return _deny(Denial.IDENTITY_DENY, decision.statements)
    return _deny(Denial.NO_IDENTITY_ALLOW)
