"""The one authorization decision of the policy engine: allowed, or denied and why, with what
decided it.

IAM's rule for identity policies (:func:`strongroom.policy.evaluate.decide_identity`), KMS's rules
on top of it (:mod:`strongroom.policy.authorizer`) and the grants that turn an implicit deny into
an allow all return a :class:`Decision`. Whether it allows, and whether a deny is explicit, follow
from the one fact it holds: the :class:`Denial`, or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum

from strongroom.policy.grammar import Effect
from strongroom.policy.principals import PrincipalMatch

__all__ = ["Decision", "Denial", "Outcome", "StatementRef"]


class Outcome(Enum):
    """IAM's three outcomes: an explicit deny wins, else an allow, else the implicit deny."""

    ALLOW = "allow"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


class Denial(StrEnum):
    """Why a request was denied, worded as the tail of AWS's AccessDeniedException message."""

    NO_RESOURCE_ALLOW = "because no resource-based policy allows the {action} action"
    NO_IDENTITY_ALLOW = "because no identity-based policy allows the {action} action"
    RESOURCE_DENY = "with an explicit deny in a resource-based policy"
    IDENTITY_DENY = "with an explicit deny in an identity-based policy"


# An explicit deny (a Deny statement matched) or the implicit one (no Allow did).
_OUTCOMES = {
    Denial.NO_RESOURCE_ALLOW: Outcome.IMPLICIT_DENY,
    Denial.NO_IDENTITY_ALLOW: Outcome.IMPLICIT_DENY,
    Denial.RESOURCE_DENY: Outcome.EXPLICIT_DENY,
    Denial.IDENTITY_DENY: Outcome.EXPLICIT_DENY,
}


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
        """One line of :meth:`Decision.explain`: ``Allow by key policy: Sid 'Admins', principal
        matched directly``."""
        sid = f"Sid {self.sid!r}" if self.sid else f"statement #{self.index + 1}"
        how = ""
        if self.principal_match is not None:
            how = f", principal matched {_MATCH_TEXT[self.principal_match]}"
        return f"{self.effect.value} by {self.policy}: {sid}{how}"


@dataclass(frozen=True, slots=True)
class Decision:
    """Allowed when there is no ``denial``. ``statements``: the statements that decided (the
    denies that matched, or the allows; for a deny that leaves it to identity policies, the key
    policy statements that did); ``grants``: the ids of the grants that allowed (none if policies
    did). Made by :meth:`allow` and :meth:`deny`."""

    denial: Denial | None
    statements: tuple[StatementRef, ...] = ()
    grants: tuple[str, ...] = ()

    @classmethod
    def allow(cls, *groups: Sequence[StatementRef], grants: tuple[str, ...] = ()) -> Decision:
        """An allow, by the statements of ``groups`` (in order) or by ``grants``."""
        return cls(None, tuple(ref for group in groups for ref in group), grants)

    @classmethod
    def deny(cls, denial: Denial, *groups: Sequence[StatementRef]) -> Decision:
        """A deny for ``denial``, with the statements of ``groups`` (in order) that decided it."""
        return cls(denial, tuple(ref for group in groups for ref in group))

    @property
    def allowed(self) -> bool:
        return self.denial is None

    @property
    def outcome(self) -> Outcome:
        return Outcome.ALLOW if self.denial is None else _OUTCOMES[self.denial]

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
        head = "ALLOW" if self.denial is None else "DENY: " + _DENIAL_TEXT[self.denial]
        lines = [head]
        lines += [f"  {ref.describe()}" for ref in self.statements]
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
