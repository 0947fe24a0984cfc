"""Evaluation: which statements of a policy match a request, and a plain identity decision.

:func:`evaluate_policy` is the pure core the KMS authorizer builds on: it returns the
matching Allow and Deny statements of one policy, each with how its principal matched.
:func:`decide_identity` is IAM's own rule for identity policies alone: a matching Deny wins,
else a matching Allow, else the implicit deny. Every decision carries the statements that made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from strongroom.domain.principal import Principal
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
class StatementRef:
    """A statement that matched, as a decision reports it."""

    policy: str  # the name the caller gave the policy
    sid: str | None
    index: int
    effect: Effect
    principal_match: PrincipalMatch | None  # None when principals were not checked

    def __str__(self) -> str:
        """Which policy and statement: ``key policy/Sid`` (or ``key policy/#2`` without one)."""
        return f"{self.policy}/{self.sid if self.sid else f'#{self.index + 1}'}"

    def describe(self) -> str:
        label = f'"{self.sid}"' if self.sid else f"#{self.index + 1}"
        how = ""
        if self.principal_match is PrincipalMatch.ACCOUNT:
            how = " (principal: the caller's account)"
        elif self.principal_match is PrincipalMatch.DIRECT:
            how = " (principal: the caller)"
        return f"{self.effect.value} in {self.policy}, statement {label}{how}"


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


class Outcome(StrEnum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    statements: tuple[StatementRef, ...]  # the denies, or the allows, that decided; () if implicit

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW

    def explain(self) -> str:
        if self.outcome is Outcome.IMPLICIT_DENY:
            return "implicit deny: no statement allows the request"
        head = "allowed by" if self.outcome is Outcome.ALLOW else "explicitly denied by"
        lines = [f"{self.outcome.value}: {head}"]
        lines += [f"  - {ref.describe()}" for ref in self.statements]
        return "\n".join(lines)


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
        return Decision(Outcome.EXPLICIT_DENY, tuple(denies))
    if allows:
        return Decision(Outcome.ALLOW, tuple(allows))
    return Decision(Outcome.IMPLICIT_DENY, ())
