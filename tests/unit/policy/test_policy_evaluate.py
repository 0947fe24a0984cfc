"""evaluate_policy and decide_identity: actions, resources, decision order, explanations."""

from __future__ import annotations

from typing import Any

from strongroom.kms.policy_text import default_key_policy
from strongroom.policy import (
    Effect,
    Outcome,
    PolicyKind,
    PrincipalMatch,
    decide_identity,
    evaluate_policy,
    parse_policy,
)
from strongroom.policy.decision import Denial

from .policy_helpers import ACCOUNT, ALICE, BOB, KEY_ARN, ROOT, ctx, doc, identity

ALLOW_ALL: dict[str, Any] = {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}


def outcome(*statements: dict[str, Any], **request: Any) -> Outcome:
    return decide_identity([("p", identity(*statements))], ctx(**request)).outcome


def test_action_matching_is_case_insensitive_with_wildcards() -> None:
    for pattern in ("kms:Decrypt", "KMS:decrypt", "kms:*", "kms:De*", "kms:Decryp?", "*"):
        assert outcome({**ALLOW_ALL, "Action": pattern}, action="kms:Decrypt") is Outcome.ALLOW
    for pattern in ("kms:Encrypt", "kms:Decryp", "kms:Decrypt?", "iam:*", "kms:En*"):
        assert outcome({**ALLOW_ALL, "Action": pattern}) is Outcome.IMPLICIT_DENY
    assert (
        outcome({**ALLOW_ALL, "Action": "kms:ReEncrypt*"}, action="kms:ReEncryptFrom")
        is Outcome.ALLOW
    )


def test_not_action() -> None:
    statement = {"Effect": "Allow", "NotAction": ["kms:Decrypt", "kms:Schedule*"], "Resource": "*"}
    assert outcome(statement, action="kms:Encrypt") is Outcome.ALLOW
    assert outcome(statement, action="kms:Decrypt") is Outcome.IMPLICIT_DENY
    assert outcome(statement, action="kms:ScheduleKeyDeletion") is Outcome.IMPLICIT_DENY


def test_resource_matching_is_case_sensitive_with_wildcards() -> None:
    assert outcome({**ALLOW_ALL, "Resource": KEY_ARN}) is Outcome.ALLOW
    upper_id = KEY_ARN.replace("key/1234abcd", "key/1234ABCD")
    assert outcome({**ALLOW_ALL, "Resource": upper_id}) is Outcome.IMPLICIT_DENY
    assert outcome({**ALLOW_ALL, "Resource": f"arn:aws:kms:*:{ACCOUNT}:key/*"}) is Outcome.ALLOW
    assert outcome({**ALLOW_ALL, "Resource": "arn:aws:kms:*"}) is Outcome.ALLOW  # * crosses :
    assert outcome({**ALLOW_ALL, "Resource": "arn:aws:kms:*:*:alias/*"}) is Outcome.IMPLICIT_DENY


def test_not_resource() -> None:
    statement = {"Effect": "Deny", "Action": "kms:*", "NotResource": f"arn:aws:kms:*:{ACCOUNT}:*"}
    assert outcome(ALLOW_ALL, statement) is Outcome.ALLOW
    other_account_key = KEY_ARN.replace(ACCOUNT, "999999999999")
    assert outcome(ALLOW_ALL, statement, resource=other_account_key) is Outcome.EXPLICIT_DENY


def test_explicit_deny_beats_allow_and_carries_its_statements() -> None:
    policies = [
        ("allow-all", identity({**ALLOW_ALL, "Sid": "All"})),
        (
            "deny-decrypt",
            identity(
                {"Sid": "NoDecrypt", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}
            ),
        ),
    ]
    decision = decide_identity(policies, ctx())
    assert decision.outcome is Outcome.EXPLICIT_DENY
    assert not decision.allowed
    assert decision.denial is Denial.IDENTITY_DENY
    assert [(r.policy, r.sid, r.effect) for r in decision.statements] == [
        ("deny-decrypt", "NoDecrypt", Effect.DENY)
    ]
    assert decision.explain() == (
        "DENY: an explicit deny in an identity policy\n  Deny by deny-decrypt: Sid 'NoDecrypt'"
    )
    allowed = decide_identity(policies, ctx(action="kms:Encrypt"))
    assert allowed.outcome is Outcome.ALLOW
    assert allowed.allowed
    assert allowed.denial is None
    assert allowed.grants == ()
    assert allowed.statements[0].policy == "allow-all"
    assert allowed.statements[0].principal_match is None  # principals were not checked
    nothing = decide_identity([], ctx())
    assert nothing.outcome is Outcome.IMPLICIT_DENY
    assert nothing.denial is Denial.NO_IDENTITY_ALLOW
    assert nothing.statements == ()
    assert "(no statement matched the request)" in nothing.explain()


def test_statement_order_and_index_are_reported() -> None:
    policy = identity(ALLOW_ALL, {**ALLOW_ALL, "Action": "kms:Decrypt"})
    result = evaluate_policy(policy, "p", ctx(), check_principal=False)
    assert [ref.index for ref in result.allows] == [0, 1]
    assert result.denies == ()


def test_key_policy_resource_star_means_the_key() -> None:
    policy = parse_policy(default_key_policy("aws", ACCOUNT), PolicyKind.RESOURCE)
    for caller in (ALICE, ROOT):
        result = evaluate_policy(policy, "key policy", ctx(principal=caller), check_principal=True)
        assert [ref.principal_match for ref in result.allows] == [PrincipalMatch.ACCOUNT]
    result = evaluate_policy(policy, "key policy", ctx(principal=BOB), check_principal=True)
    assert result.allows == ()
    # without the principal check the statement matches anyone
    result = evaluate_policy(policy, "key policy", ctx(principal=BOB), check_principal=False)
    assert len(result.allows) == 1


def test_key_policy_statement_without_action_or_resource_never_matches() -> None:
    text = doc(
        {"Effect": "Deny", "Principal": "*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:*"},
    )
    policy = parse_policy(text, PolicyKind.RESOURCE)
    assert evaluate_policy(policy, "k", ctx(), check_principal=True).denies == ()


def test_trust_policy_statements_match_any_resource() -> None:
    text = doc({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"})
    policy = parse_policy(text, PolicyKind.TRUST)
    request = ctx(action="sts:AssumeRole", resource=f"arn:aws:iam::{ACCOUNT}:role/app")
    assert len(evaluate_policy(policy, "trust", request, check_principal=True).allows) == 1
    assert (
        evaluate_policy(
            policy, "trust", ctx(principal=BOB, action="sts:AssumeRole"), check_principal=True
        ).allows
        == ()
    )


def test_conditions_gate_a_statement() -> None:
    statement = {
        **ALLOW_ALL,
        "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}},
    }
    assert outcome(statement, kms__encryptioncontext__tenant="acme") is Outcome.ALLOW
    assert outcome(statement, kms__encryptioncontext__tenant="other") is Outcome.IMPLICIT_DENY
    assert outcome(statement) is Outcome.IMPLICIT_DENY
