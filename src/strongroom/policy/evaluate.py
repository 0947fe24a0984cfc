"""Evaluation: which statements of a policy match a request, and a plain identity decision.

:func:`evaluate_policy` is the pure core the KMS authorizer builds on: it returns the
matching Allow and Deny statements of one policy, each with how its principal matched.
:func:`decide_identity` is IAM's own rule for identity policies alone: a matching Deny wins,
else a matching Allow, else the implicit deny. Every decision carries the statements that made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from strongroom.domain.principal import Principal
from strongroom.policy.decision import Decision, Denial, Outcome, StatementRef
from strongroom.policy.document import PolicyDocument, Statement
from strongroom.policy.grammar import ConditionValue, Effect
from strongroom.policy.principals import PrincipalMatch
from strongroom.policy.request import RequestContext

__all__ = [
    "ConditionValue",
    "Decision",
    "Outcome",
    "PolicyResult",
    "PrincipalMatch",
    "RequestContext",
    "StatementRef",
    "decide_identity",
    "evaluate_policy",
    "match_principal",
]


def match_principal(statement: Statement, principal: Principal) -> PrincipalMatch:
    """How the statement's Principal / NotPrincipal names the caller. A statement without one
    (identity policies, where the principal is whoever the policy is attached to) -> DIRECT."""
    if statement.principal is None:
        return PrincipalMatch.DIRECT
    return statement.principal.match(principal)


@dataclass(frozen=True, slots=True)
class PolicyResult:
    allows: tuple[StatementRef, ...]
    denies: tuple[StatementRef, ...]


def evaluate_policy(
    policy: PolicyDocument, name: str, ctx: RequestContext, *, check_principal: bool
) -> PolicyResult:
    """The statements whose Action, Resource, Principal (when ``check_principal``) and Condition
    all match. A statement without Action or Resource (accepted in key policies) never matches."""
    action = ctx.action_lower
    allows: list[StatementRef] = []
    denies: list[StatementRef] = []
    for statement in policy.statements:
        if not _targets(statement, action, ctx):
            continue
        how: PrincipalMatch | None = None
        if check_principal:
            spec = statement.principal
            how = PrincipalMatch.DIRECT if spec is None else spec.match(ctx.principal)
            if how is PrincipalMatch.NONE:
                continue
        if not _conditions_hold(statement, ctx):
            continue
        ref = StatementRef(name, statement.sid, statement.index, statement.effect, how)
        (allows if statement.effect is Effect.ALLOW else denies).append(ref)
    return PolicyResult(tuple(allows), tuple(denies))


def _targets(statement: Statement, action: str, ctx: RequestContext) -> bool:
    """Action / NotAction and Resource / NotResource."""
    actions = statement.actions
    if actions is None or not actions.applies(action):
        return False
    resources = statement.resources
    if resources is None:
        return statement.any_resource
    return resources.everything or resources.applies(ctx.resource, ctx)


def _conditions_hold(statement: Statement, ctx: RequestContext) -> bool:
    # a plain loop: all() over a generator costs a frame per statement on the hot path
    for condition in statement.conditions:  # noqa: SIM110
        if not condition.test(ctx):
            return False
    return True


def decide_identity(
    policies: Sequence[tuple[str, PolicyDocument]], ctx: RequestContext
) -> Decision:
    """IAM's rule for identity policies: any matching Deny, else any matching Allow, else no."""
    allows: list[StatementRef] = []
    denies: list[StatementRef] = []
    for name, policy in policies:
        result = evaluate_policy(policy, name, ctx, check_principal=False)
        allows += result.allows
        denies += result.denies
    if denies:
        return Decision.deny(Denial.IDENTITY_DENY, denies)
    if allows:
        return Decision.allow(allows)
    return Decision.deny(Denial.NO_IDENTITY_ALLOW)
