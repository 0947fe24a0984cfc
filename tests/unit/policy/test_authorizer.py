"""KMS's authorization rules (kms-spec.md 6.2) over the pure policy engine."""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

import pytest

from strongroom.domain.principal import Principal, PrincipalType
from strongroom.policy.authorizer import allow_by_grants, decide_account_action, decide_key_access
from strongroom.policy.decision import Decision, Denial, Outcome
from strongroom.policy.document import PolicyDocument, PolicyKind, parse_policy
from strongroom.policy.evaluate import RequestContext

A, B = "111122223333", "444455556666"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def user(account: str, name: str) -> Principal:
    return Principal(
        account=account,
        arn=f"arn:aws:iam::{account}:user/{name}",
        type=PrincipalType.USER,
        user_id="AIDAEXAMPLE" + name.upper(),
        name=name,
    )


def role_session(account: str, role: str) -> Principal:
    return Principal(
        account=account,
        arn=f"arn:aws:sts::{account}:assumed-role/{role}/s",
        type=PrincipalType.ASSUMED_ROLE,
        user_id="AROAEXAMPLE:s",
        name=role,
        role_arn=f"arn:aws:iam::{account}:role/{role}",
        session_name="s",
        tags=MappingProxyType({}),
    )


def policy(kind: PolicyKind, *statements: dict[str, Any]) -> PolicyDocument:
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}), kind)


def key_policy(*statements: dict[str, Any]) -> PolicyDocument:
    return policy(PolicyKind.RESOURCE, *statements)


def identity(*statements: dict[str, Any]) -> list[tuple[str, PolicyDocument]]:
    return [("user inline", policy(PolicyKind.IDENTITY, *statements))]


ROOT_STATEMENT = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
ALLOW_DECRYPT = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}


def ctx(principal: Principal, action: str = "kms:Decrypt", **keys: Any) -> RequestContext:
    return RequestContext(action=action, resource=KEY, principal=principal, keys=keys)


def test_root_is_allowed_by_the_account_statement() -> None:
    decision = decide_key_access(ctx(Principal.root(A)), A, key_policy(ROOT_STATEMENT), [])
    assert decision.allowed
    assert decision.statements[0].sid == "Enable IAM User Permissions"


def test_user_needs_an_identity_policy_when_the_key_policy_names_the_account() -> None:
    alice = user(A, "alice")
    denied = decide_key_access(ctx(alice), A, key_policy(ROOT_STATEMENT), [])
    assert not denied.allowed
    assert denied.denial is Denial.NO_IDENTITY_ALLOW
    allowed = decide_key_access(ctx(alice), A, key_policy(ROOT_STATEMENT), identity(ALLOW_DECRYPT))
    assert allowed.allowed


def test_without_the_root_statement_identity_policies_are_useless() -> None:
    alice = user(A, "alice")
    other = {**ROOT_STATEMENT, "Principal": {"AWS": f"arn:aws:iam::{A}:user/bob"}}
    decision = decide_key_access(ctx(alice), A, key_policy(other), identity(ALLOW_DECRYPT))
    assert not decision.allowed
    assert decision.denial is Denial.NO_RESOURCE_ALLOW


def test_a_key_policy_naming_the_user_is_enough() -> None:
    alice = user(A, "alice")
    named = {**ALLOW_DECRYPT, "Principal": {"AWS": alice.arn}}
    assert decide_key_access(ctx(alice), A, key_policy(named), []).allowed


def test_explicit_deny_beats_every_allow() -> None:
    alice = user(A, "alice")
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    decision = decide_key_access(
        ctx(alice), A, key_policy(ROOT_STATEMENT, deny), identity(ALLOW_DECRYPT)
    )
    assert decision.denial is Denial.RESOURCE_DENY
    identity_deny = identity(ALLOW_DECRYPT, {**ALLOW_DECRYPT, "Effect": "Deny"})
    decision = decide_key_access(ctx(alice), A, key_policy(ROOT_STATEMENT), identity_deny)
    assert decision.denial is Denial.IDENTITY_DENY


def test_cross_account_needs_both_sides() -> None:
    session = role_session(B, "reader")
    allow_b = {**ALLOW_DECRYPT, "Principal": {"AWS": f"arn:aws:iam::{B}:root"}}
    kp = key_policy(ROOT_STATEMENT, allow_b)
    assert not decide_key_access(ctx(session), A, kp, []).allowed
    assert decide_key_access(ctx(session), A, kp, identity(ALLOW_DECRYPT)).allowed
    assert not decide_key_access(
        ctx(session), A, key_policy(ROOT_STATEMENT), identity(ALLOW_DECRYPT)
    ).allowed


def test_cross_account_is_limited_to_some_actions() -> None:
    session = role_session(B, "reader")
    allow_b = {"Effect": "Allow", "Principal": {"AWS": B}, "Action": "kms:*", "Resource": "*"}
    everything = identity({"Effect": "Allow", "Action": "kms:*", "Resource": "*"})
    kp = key_policy(allow_b)
    assert decide_key_access(ctx(session, "kms:Encrypt"), A, kp, everything).allowed
    assert not decide_key_access(ctx(session, "kms:ScheduleKeyDeletion"), A, kp, everything).allowed


def test_encryption_context_condition() -> None:
    alice = user(A, "alice")
    tenant = {
        **ALLOW_DECRYPT,
        "Principal": {"AWS": alice.arn},
        "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "blue"}},
    }
    kp = key_policy(tenant)
    assert decide_key_access(
        ctx(alice, **{"kms:encryptioncontext:tenant": "blue"}), A, kp, []
    ).allowed
    assert not decide_key_access(
        ctx(alice, **{"kms:encryptioncontext:tenant": "red"}), A, kp, []
    ).allowed
    assert not decide_key_access(ctx(alice), A, kp, []).allowed


def test_account_actions_use_identity_policies_alone() -> None:
    alice = user(A, "alice")
    list_keys = RequestContext(action="kms:ListKeys", resource="*", principal=alice, keys={})
    assert decide_account_action(list_keys, []).denial is Denial.NO_IDENTITY_ALLOW
    allow = identity({"Effect": "Allow", "Action": "kms:List*", "Resource": "*"})
    assert decide_account_action(list_keys, allow).allowed
    root = RequestContext(action="kms:ListKeys", resource="*", principal=Principal.root(A), keys={})
    assert decide_account_action(root, []).allowed


@pytest.mark.parametrize(
    ("denial", "tail"),
    [
        (
            Denial.NO_RESOURCE_ALLOW,
            "because no resource-based policy allows the kms:Decrypt action",
        ),
        (
            Denial.NO_IDENTITY_ALLOW,
            "because no identity-based policy allows the kms:Decrypt action",
        ),
        (Denial.RESOURCE_DENY, "with an explicit deny in a resource-based policy"),
        (Denial.IDENTITY_DENY, "with an explicit deny in an identity-based policy"),
    ],
)
def test_messages_follow_aws(denial: Denial, tail: str) -> None:
    message = Decision.deny(denial).message(f"arn:aws:iam::{A}:user/alice", "kms:Decrypt", KEY)
    assert message == (
        f"User: arn:aws:iam::{A}:user/alice is not authorized to perform: kms:Decrypt on "
        f"resource: {KEY} {tail}"
    )


def test_allowed_and_the_outcome_follow_from_the_denial() -> None:
    allowed = Decision.allow()
    assert (allowed.allowed, allowed.outcome, allowed.denial) == (True, Outcome.ALLOW, None)
    explicit = {Denial.RESOURCE_DENY, Denial.IDENTITY_DENY}
    for denial in Denial:
        denied = Decision.deny(denial)
        assert not denied.allowed
        assert denied.outcome is (
            Outcome.EXPLICIT_DENY if denial in explicit else Outcome.IMPLICIT_DENY
        )


def test_a_grant_turns_only_an_implicit_deny_into_an_allow() -> None:
    for denial in (Denial.NO_RESOURCE_ALLOW, Denial.NO_IDENTITY_ALLOW):
        by_grant = allow_by_grants(Decision.deny(denial), "g1", "for-bob")
        assert (by_grant.allowed, by_grant.grants) == (True, ("g1",))
        assert by_grant.explain() == (
            "ALLOW\n  Allow by grant g1: Sid 'for-bob', principal matched directly"
        )
    for denial in (Denial.RESOURCE_DENY, Denial.IDENTITY_DENY):
        explicit = Decision.deny(denial)
        assert allow_by_grants(explicit, "g1", None) is explicit
    allowed = Decision.allow()
    assert allow_by_grants(allowed, "g1", None) is allowed


def test_explanations_name_the_statements_that_decided() -> None:
    alice = user(A, "alice")
    allowed = decide_key_access(ctx(alice), A, key_policy(ROOT_STATEMENT), identity(ALLOW_DECRYPT))
    assert allowed.explain() == (
        "ALLOW\n"
        "  Allow by key policy: Sid 'Enable IAM User Permissions', principal matched through its "
        "account\n"
        "  Allow by user inline: statement #1"
    )
    denied = decide_key_access(ctx(alice), A, key_policy(ROOT_STATEMENT), [])
    assert denied.explain() == (
        "DENY: the key policy leaves it to identity policies, and none allows it\n"
        "  Allow by key policy: Sid 'Enable IAM User Permissions', principal matched through its "
        "account"
    )
    bob_only = {**ROOT_STATEMENT, "Principal": {"AWS": f"arn:aws:iam::{A}:user/bob"}}
    nothing = decide_key_access(ctx(alice), A, key_policy(bob_only), identity(ALLOW_DECRYPT))
    assert nothing.explain() == (
        "DENY: the key policy allows neither the caller nor its account\n"
        "  (no statement matched the request)"
    )
