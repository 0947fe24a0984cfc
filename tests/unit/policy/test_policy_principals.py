"""Principal and NotPrincipal matching in resource and trust policies."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.domain.principal import Principal
from strongroom.policy import PolicyKind, PrincipalMatch, match_principal, parse_policy
from strongroom.policy.document import Statement

from .policy_helpers import ACCOUNT, ALICE, BOB, OTHER, ROOT, SESSION, doc

ALICE_ARN = ALICE.arn
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/app"
SESSION_ARN = SESSION.arn
ACCOUNT_ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def statement(
    principal: Any, *, negated: bool = False, kind: PolicyKind = PolicyKind.RESOURCE
) -> Statement:
    element = "NotPrincipal" if negated else "Principal"
    raw = {"Effect": "Allow", "Action": "kms:*", element: principal}
    if kind is PolicyKind.RESOURCE:
        raw["Resource"] = "*"
    return parse_policy(doc(raw), kind).statements[0]


DIRECT, ACCT, NONE = PrincipalMatch.DIRECT, PrincipalMatch.ACCOUNT, PrincipalMatch.NONE

CASES: list[tuple[Any, Principal, PrincipalMatch]] = [
    ("*", ALICE, DIRECT),
    ({"AWS": "*"}, BOB, DIRECT),
    ({"AWS": ACCOUNT}, ALICE, ACCT),
    ({"AWS": ACCOUNT}, ROOT, ACCT),
    ({"AWS": ACCOUNT_ROOT}, SESSION, ACCT),
    ({"AWS": ACCOUNT_ROOT}, BOB, NONE),
    ({"AWS": [OTHER, ACCOUNT]}, BOB, ACCT),
    ({"AWS": ALICE_ARN}, ALICE, DIRECT),
    ({"AWS": [ACCOUNT_ROOT, ALICE_ARN]}, ALICE, DIRECT),  # the closer match wins
    ({"AWS": ALICE_ARN}, ROOT, NONE),
    ({"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"}, ALICE, NONE),  # the path is part of it
    ({"AWS": ROLE_ARN}, SESSION, DIRECT),  # a role matches every session of it
    ({"AWS": SESSION_ARN}, SESSION, DIRECT),
    ({"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/app/other"}, SESSION, NONE),
    ({"AWS": ROLE_ARN}, ALICE, NONE),
    ({"Service": "logs.amazonaws.com"}, ALICE, NONE),
    ({"Federated": "cognito-identity.amazonaws.com"}, SESSION, NONE),
    ({"CanonicalUser": "79a59df900b949e55d96a1e698fbaced"}, ROOT, NONE),
]


@pytest.mark.parametrize(("principal", "caller", "expected"), CASES)
def test_principal(principal: Any, caller: Principal, expected: PrincipalMatch) -> None:
    assert match_principal(statement(principal), caller) is expected
    assert match_principal(statement(principal, kind=PolicyKind.TRUST), caller) is expected


NOT_CASES: list[tuple[Any, Principal, PrincipalMatch]] = [
    ({"AWS": [ALICE_ARN, ACCOUNT_ROOT]}, ALICE, NONE),  # spared: its whole chain is listed
    ({"AWS": ALICE_ARN}, ALICE, DIRECT),  # not spared without its account (as AWS)
    ({"AWS": ACCOUNT_ROOT}, ALICE, DIRECT),  # listing the account alone spares only the root
    ({"AWS": ACCOUNT_ROOT}, ROOT, NONE),
    ({"AWS": [ALICE_ARN, ACCOUNT_ROOT]}, BOB, DIRECT),
    ({"AWS": [SESSION_ARN, ROLE_ARN, ACCOUNT_ROOT]}, SESSION, NONE),
    ({"AWS": [ROLE_ARN, ACCOUNT]}, SESSION, NONE),
    ({"AWS": [SESSION_ARN]}, SESSION, DIRECT),
    ("*", BOB, NONE),
]


@pytest.mark.parametrize(("principal", "caller", "expected"), NOT_CASES)
def test_not_principal(principal: Any, caller: Principal, expected: PrincipalMatch) -> None:
    assert match_principal(statement(principal, negated=True), caller) is expected


def test_identity_statement_has_no_principal() -> None:
    policy = parse_policy(
        doc({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}), PolicyKind.IDENTITY
    )
    assert policy.statements[0].principal is None
    assert match_principal(policy.statements[0], BOB) is DIRECT


def test_principals_as_written_are_exposed_for_existence_checks() -> None:
    policy = parse_policy(
        doc(
            {
                "Effect": "Allow",
                "Action": "kms:*",
                "Resource": "*",
                "Principal": {"AWS": [ALICE_ARN, OTHER]},
            },
            {
                "Effect": "Deny",
                "Action": "kms:*",
                "Resource": "*",
                "NotPrincipal": {"AWS": ROLE_ARN},
            },
        ),
        PolicyKind.RESOURCE,
    )
    assert policy.principal_arns == (ALICE_ARN, OTHER, ROLE_ARN)
