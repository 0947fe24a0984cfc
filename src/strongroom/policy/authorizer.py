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

from strongroom.domain.actions import Action
from strongroom.policy.decision import Decision, Denial, Outcome, StatementRef
from strongroom.policy.document import PolicyDocument
from strongroom.policy.evaluate import (
    PrincipalMatch,
    RequestContext,
    decide_identity,
    evaluate_policy,
)
from strongroom.policy.grammar import Effect

__all__ = [
    "CROSS_ACCOUNT_ACTIONS",
    "allow_by_grants",
    "decide_account_action",
    "decide_key_access",
]

KEY_POLICY = "key policy"

# The only actions that can ever be allowed on another account's key (the action table's trait).
CROSS_ACCOUNT_ACTIONS = frozenset(a.permission for a in Action if a.traits.cross_account)


def decide_key_access(
    ctx: RequestContext,
    key_account: str,
    key_policy: PolicyDocument,
    identity: Sequence[tuple[str, PolicyDocument]],
) -> Decision:
    """May ``ctx.principal`` do ``ctx.action`` on the key (``ctx.resource``)?

    ``identity`` holds the caller's identity-based policies (empty for an account root).
    """
    principal = ctx.principal
    key_result = evaluate_policy(key_policy, KEY_POLICY, ctx, check_principal=True)
    if key_result.denies:
        return Decision.deny(Denial.RESOURCE_DENY, key_result.denies)
    by_identity = decide_identity(() if principal.is_root else identity, ctx)
    if by_identity.outcome is Outcome.EXPLICIT_DENY:
        return by_identity
    id_allows = by_identity.statements if by_identity.allowed else ()
    same_account = principal.account == key_account
    if not same_account and ctx.action not in CROSS_ACCOUNT_ACTIONS:
        return Decision.deny(Denial.NO_RESOURCE_ALLOW)
    direct = [
        ref
        for ref in key_result.allows
        if ref.principal_match is PrincipalMatch.DIRECT
        or (ref.principal_match is PrincipalMatch.ACCOUNT and principal.is_root)
    ]
    delegated = [r for r in key_result.allows if r.principal_match is PrincipalMatch.ACCOUNT]
    if same_account:
        if direct:
            return Decision.allow(direct)
        if delegated and id_allows:
            return Decision.allow(delegated, id_allows)
        if delegated:
            return Decision.deny(Denial.NO_IDENTITY_ALLOW, delegated)
        return Decision.deny(Denial.NO_RESOURCE_ALLOW)
    if not (direct or delegated):
        return Decision.deny(Denial.NO_RESOURCE_ALLOW)
    if principal.is_root or id_allows:
        return Decision.allow(direct or delegated, id_allows)
    return Decision.deny(Denial.NO_IDENTITY_ALLOW, direct or delegated)


def allow_by_grants(decision: Decision, grant_id: str, name: str | None) -> Decision:
    """Step 5 of kms-spec.md 6.2: a grant on the key that allows the request (``grant_id``, with
    its ``name``) turns an implicit deny into an allow; an explicit deny stands."""
    if decision.outcome is not Outcome.IMPLICIT_DENY:
        return decision
    ref = StatementRef(f"grant {grant_id}", name, 0, Effect.ALLOW, PrincipalMatch.DIRECT)
    return Decision.allow((ref,), grants=(grant_id,))


def decide_account_action(
    ctx: RequestContext, identity: Sequence[tuple[str, PolicyDocument]]
) -> Decision:
    """Actions with no key (CreateKey, ListKeys, ListAliases, GenerateRandom) and the alias half of
    the alias operations: identity policies alone; the account root may always."""
    if ctx.principal.is_root:
        return Decision.allow()
    return decide_identity(identity, ctx)
