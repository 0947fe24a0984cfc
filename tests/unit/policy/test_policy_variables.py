"""Policy variables in Resource and condition values; escapes; 2008-10-17 documents."""

from __future__ import annotations

from typing import Any

from strongroom.policy import decide_identity
from strongroom.policy.variables import Escape, Variable, split_parts

from .policy_helpers import ACCOUNT, ALICE, SESSION, condition_holds, ctx, identity

KEY_PREFIX = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/"


def allowed(
    policy_resource: str, resource: str, version: str | None = "2012-10-17", **kw: Any
) -> bool:
    policy = identity(
        {"Effect": "Allow", "Action": "kms:*", "Resource": policy_resource}, version=version
    )
    return decide_identity([("p", policy)], ctx(resource=resource, **kw)).allowed


def test_split_parts() -> None:
    assert split_parts("a/${aws:UserName}/${*}${?}${$}/*", variables=True) == (
        "a/",
        Variable("aws:username"),
        "/",
        Escape("*"),
        Escape("?"),
        Escape("$"),
        "/*",
    )
    assert split_parts("${aws:username, 'nobody'}", variables=True) == (
        Variable("aws:username", "nobody"),
    )
    assert split_parts("${x, 'it''s'}", variables=True) == (Variable("x", "it's"),)
    assert split_parts("${aws:username", variables=True) == ("${aws:username",)
    assert split_parts("${aws:username}", variables=False) == ("${aws:username}",)


def test_username_in_resource() -> None:
    pattern = KEY_PREFIX + "${aws:username}-*"
    assert allowed(pattern, KEY_PREFIX + "alice-1")
    assert not allowed(pattern, KEY_PREFIX + "bob-1")


def test_missing_variable_matches_nothing() -> None:
    pattern = KEY_PREFIX + "${aws:username}-*"
    # an assumed-role session has no aws:username
    assert not allowed(pattern, KEY_PREFIX + "app-1", principal=SESSION)
    assert not allowed(KEY_PREFIX + "*${aws:username}*", KEY_PREFIX + "x", principal=SESSION)


def test_missing_variable_under_not_resource_does_not_apply() -> None:
    policy = identity(
        {"Effect": "Allow", "Action": "kms:*", "NotResource": KEY_PREFIX + "${aws:username}"}
    )
    assert decide_identity([("p", policy)], ctx(resource=KEY_PREFIX + "x")).allowed
    assert not decide_identity([("p", policy)], ctx(resource=KEY_PREFIX + "alice")).allowed
    assert not decide_identity(
        [("p", policy)], ctx(resource=KEY_PREFIX + "x", principal=SESSION)
    ).allowed


def test_default_value() -> None:
    pattern = KEY_PREFIX + "${aws:username, 'shared'}"
    assert allowed(pattern, KEY_PREFIX + "shared", principal=SESSION)
    assert allowed(pattern, KEY_PREFIX + "alice")


def test_escapes_are_literal_characters() -> None:
    assert allowed(KEY_PREFIX + "a${*}b", KEY_PREFIX + "a*b")
    assert not allowed(KEY_PREFIX + "a${*}b", KEY_PREFIX + "axxb")
    assert allowed(KEY_PREFIX + "a${?}", KEY_PREFIX + "a?")
    assert not allowed(KEY_PREFIX + "a${?}", KEY_PREFIX + "ab")
    assert allowed(KEY_PREFIX + "${$}x", KEY_PREFIX + "$x")


def test_variable_values_are_not_wildcards() -> None:
    assert not allowed(KEY_PREFIX + "${svc:name}", KEY_PREFIX + "abc", svc__name="*")
    assert allowed(KEY_PREFIX + "${svc:name}", KEY_PREFIX + "*", svc__name="*")


def test_2008_documents_treat_variables_as_text() -> None:
    literal = KEY_PREFIX + "${aws:username}"
    assert allowed(literal, literal, version="2008-10-17")
    assert not allowed(literal, KEY_PREFIX + "alice", version="2008-10-17")
    assert not allowed(literal, KEY_PREFIX + "alice", version=None)


def test_variables_in_condition_values() -> None:
    keys = {"svc:owner": "alice"}
    assert condition_holds({"StringEquals": {"svc:owner": "${aws:username}"}}, keys)
    assert condition_holds(
        {"StringLike": {"svc:path": "home/${aws:username}/*"}}, {"svc:path": "home/alice/x"}
    )
    assert condition_holds(
        {"StringEquals": {"svc:team": "${aws:PrincipalTag/Team}"}}, {"svc:team": "red"}
    )
    assert condition_holds(
        {"StringEquals": {"svc:ip": "${aws:SourceIp}"}},
        {"svc:ip": "1.2.3.4", "aws:sourceip": "1.2.3.4"},
    )
    assert condition_holds({"StringEquals": {"svc:x": "${svc:y}"}}, {"svc:x": "v", "svc:y": "v"})
    assert condition_holds(
        {"ArnLike": {"svc:arn": f"arn:aws:iam::{ACCOUNT}:user/*/${{aws:username}}"}},
        {"svc:arn": ALICE.arn},
    )
    assert not condition_holds(
        {"StringEquals": {"svc:owner": "${aws:username}"}}, keys, version="2008-10-17"
    )


def test_unresolved_variable_in_condition_fails_the_comparison() -> None:
    keys = {"svc:owner": "app"}
    # positive: the unresolved value matches nothing, other values still count
    assert not condition_holds(
        {"StringEquals": {"svc:owner": "${aws:username}"}}, keys, principal=SESSION
    )
    assert condition_holds(
        {"StringEquals": {"svc:owner": ["${aws:username}", "app"]}}, keys, principal=SESSION
    )
    # negated: the comparison with an unresolved value is false, so the condition is
    assert not condition_holds(
        {"StringNotEquals": {"svc:owner": "${aws:username}"}}, keys, principal=SESSION
    )
    # a multi-valued key cannot stand in for a variable
    assert not condition_holds(
        {"StringEquals": {"svc:x": "${svc:list}"}}, {"svc:x": "a", "svc:list": ["a"]}
    )
