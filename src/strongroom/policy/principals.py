"""Principal and NotPrincipal: who a resource or trust policy statement is about.

Forms (spec 8.1): ``"*"``; ``{"AWS": "*"}``; an account as ``"111122223333"`` or
``arn:aws:iam::111122223333:root``; user, role and federated-user ARNs; assumed-role session ARNs
(``arn:aws:sts::A:assumed-role/ROLE/SESSION``); ``{"Service": ...}``, ``{"Federated": ...}``,
``{"CanonicalUser": ...}``. Anything else in ``AWS`` -- wildcards inside an ARN included -- is
refused as an invalid principal. Whether the named principals *exist* is for the caller to check
(:attr:`PrincipalSpec.aws`).

A match is ``DIRECT`` (the statement names the caller, its role, or everyone) or ``ACCOUNT`` (it
names the caller's account: what that means -- delegation to IAM policies, or the root itself --
is for the authorizer to decide).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from strongroom.domain.principal import Principal, PrincipalType
from strongroom.policy.grammar import (
    MalformedPolicy,
    PolicyKind,
    Reason,
    invalid_principal,
    require_strings,
)

__all__ = ["PrincipalMatch", "PrincipalSpec", "parse_principal"]

_ACCOUNT = re.compile(r"\d{12}")
_ROOT = re.compile(r"arn:[a-z][a-z0-9-]*:iam::(\d{12}):root")
_NAMED = re.compile(
    r"arn:[a-z][a-z0-9-]*:(?:iam::\d{12}:(?:user|role|federated-user)/[^*?]+"
    r"|sts::\d{12}:(?:assumed-role/[^/*?]+/[^*?]+|federated-user/[^*?]+))"
)
_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


class PrincipalMatch(Enum):
    NONE = "none"
    DIRECT = "direct"
    ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """A compiled Principal (``negated=False``) or NotPrincipal (``negated=True``)."""

    negated: bool
    everyone: bool  # "*" or {"AWS": "*"}
    accounts: frozenset[str]  # account ids, from "111122223333" or ...:root
    arns: frozenset[str]  # user, role, session and federated-user ARNs
    aws: tuple[str, ...]  # the AWS values as written
    services: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical: tuple[str, ...] = ()

    def match(self, principal: Principal) -> PrincipalMatch:
        if self.negated:
            return PrincipalMatch.NONE if self._excludes(principal) else PrincipalMatch.DIRECT
        if self.everyone or principal.arn in self.arns:
            return PrincipalMatch.DIRECT
        if principal.role_arn is not None and principal.role_arn in self.arns:
            return PrincipalMatch.DIRECT
        if principal.account in self.accounts:
            return PrincipalMatch.ACCOUNT
        return PrincipalMatch.NONE

    def _excludes(self, principal: Principal) -> bool:
        """NotPrincipal spares a caller only when its whole chain is listed: the account, and
        for a user its ARN, for a role session the session ARN or the role ARN (as AWS)."""
        if self.everyone:
            return True
        account_listed = principal.account in self.accounts
        if principal.type is PrincipalType.ACCOUNT:
            return account_listed
        named = principal.arn in self.arns or (
            principal.role_arn is not None and principal.role_arn in self.arns
        )
        return named and account_listed


def parse_principal(value: object, kind: PolicyKind, *, negated: bool) -> PrincipalSpec:
    if value == "*":
        return PrincipalSpec(negated, True, frozenset(), frozenset(), ("*",))
    if not isinstance(value, dict) or not value:
        raise MalformedPolicy(
            invalid_principal(kind, "AWS", str(value)), f"invalid principal {value!r}"
        )
    by_type: dict[str, tuple[str, ...]] = {}
    for principal_type, entries in value.items():
        if principal_type not in _TYPES:
            raise MalformedPolicy(Reason.SYNTAX, f"unknown principal type {principal_type!r}")
        by_type[principal_type] = require_strings(entries, f"Principal {principal_type}")
    aws = by_type.get("AWS", ())
    accounts, arns = _classify(aws, kind)
    return PrincipalSpec(
        negated=negated,
        everyone="*" in aws,
        accounts=frozenset(accounts),
        arns=frozenset(arns),
        aws=aws,
        services=by_type.get("Service", ()),
        federated=by_type.get("Federated", ()),
        canonical=by_type.get("CanonicalUser", ()),
    )


def _classify(aws: tuple[str, ...], kind: PolicyKind) -> tuple[set[str], set[str]]:
    accounts: set[str] = set()
    arns: set[str] = set()
    for entry in aws:
        if entry == "*":
            continue
        if _ACCOUNT.fullmatch(entry):
            accounts.add(entry)
        elif root := _ROOT.fullmatch(entry):
            accounts.add(root.group(1))
        elif _NAMED.fullmatch(entry):
            arns.add(entry)
        else:
            raise MalformedPolicy(
                invalid_principal(kind, "AWS", entry), f"invalid AWS principal {entry!r}"
            )
    return accounts, arns
