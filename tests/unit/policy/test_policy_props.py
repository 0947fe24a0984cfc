"""Property tests the issue asks for: deny always wins, wildcards agree with a reference
matcher, and junk or unknown operators are refused as MalformedPolicy (and only that)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.policy import (
    MalformedPolicy,
    Outcome,
    PolicyKind,
    RequestContext,
    decide_identity,
    evaluate_policy,
    parse_policy,
)
from strongroom.policy.match import PatternSet

from .policy_helpers import ALICE, condition_holds

# -- a reference glob: recursive, obviously right, slow ------------------------------------------


def glob(pattern: str, value: str) -> bool:
    @cache
    def at(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(value)
        head = pattern[i]
        if head == "*":
            return at(i + 1, j) or (j < len(value) and at(i, j + 1))
        if j < len(value) and (head == "?" or head == value[j]):
            return at(i + 1, j + 1)
        return False

    return at(0, 0)


def arn_glob(pattern: str, value: str) -> bool:
    if pattern.count(":") < 5:
        return glob(pattern, value)
    wanted, got = pattern.split(":", 5), value.split(":", 5)
    return len(got) == 6 and all(glob(p, v) for p, v in zip(wanted, got, strict=True))


patterns = st.text(alphabet="ab*?:/", max_size=10)
values = st.text(alphabet="abAB:/", max_size=10)


@given(patterns, values)
def test_patterns_agree_with_reference_glob(pattern: str, value: str) -> None:
    assert PatternSet([pattern]).matches(value) is glob(pattern, value)
    folded = PatternSet([pattern], fold_case=True).matches(value.lower())
    assert folded is glob(pattern.lower(), value.lower())


@given(st.lists(patterns, min_size=1, max_size=4), values)
def test_pattern_sets_are_any_of_their_patterns(group: list[str], value: str) -> None:
    assert PatternSet(group).matches(value) is any(glob(p, value) for p in group)


@settings(max_examples=150)
@given(patterns, values)
def test_string_like_agrees_with_reference_glob(pattern: str, value: str) -> None:
    assert condition_holds({"StringLike": {"svc:k": pattern}}, {"svc:k": value}) is glob(
        pattern, value
    )


arn_parts = st.lists(st.text(alphabet="ab*?/", max_size=4), min_size=6, max_size=6)


@settings(max_examples=150)
@given(arn_parts, st.lists(st.text(alphabet="ab:/", max_size=4), min_size=4, max_size=8))
def test_arn_like_agrees_with_segment_reference(wanted: list[str], got: list[str]) -> None:
    pattern, value = ":".join(wanted), ":".join(got)
    holds = condition_holds({"ArnLike": {"svc:arn": pattern}}, {"svc:arn": value})
    assert holds is arn_glob(pattern, value)


# -- deny always wins ------------------------------------------------------------------------------

ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:*", "kms:De*", "*", "kms:Decryp?", "iam:*"]
RESOURCES = [
    "*",
    "arn:aws:kms:*",
    "arn:aws:kms:us-east-1:111122223333:key/a",
    "arn:aws:kms:*:*:key/b*",
]
CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}},
    {"StringNotEquals": {"kms:EncryptionContext:tenant": ["acme", "beta"]}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"Bool": {"aws:SecureTransport": "false"}},
    {"ForAllValues:StringLike": {"kms:EncryptionContextKeys": ["tenant", "p*"]}},
    {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "purpose"}},
    {"StringEqualsIfExists": {"aws:username": "alice"}},
    {"Null": {"kms:EncryptionContext:tenant": "true"}},
    {"NumericLessThan": {"svc:n": 5}},
]

statements = st.builds(
    lambda effect, action, actions, resource, resources, condition: {
        "Effect": effect,
        action: actions,
        resource: resources,
        **({"Condition": condition} if condition else {}),
    },
    st.sampled_from(["Allow", "Deny"]),
    st.sampled_from(["Action", "NotAction"]),
    st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3),
    st.sampled_from(["Resource", "NotResource"]),
    st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2),
    st.none() | st.sampled_from(CONDITIONS),
)
contexts = st.builds(
    lambda action, resource, keys: RequestContext(action, resource, ALICE, keys),
    st.sampled_from(["kms:Decrypt", "kms:Encrypt", "iam:CreateUser", "kms:DescribeKey"]),
    st.sampled_from(
        ["arn:aws:kms:us-east-1:111122223333:key/a", "arn:aws:kms:eu-west-1:1:key/bx", "*"]
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "kms:encryptioncontext:tenant": st.sampled_from(["acme", "beta", "x"]),
            "aws:sourceip": st.sampled_from(["10.1.2.3", "192.0.2.1"]),
            "aws:securetransport": st.booleans(),
            "kms:encryptioncontextkeys": st.lists(
                st.sampled_from(["tenant", "purpose", "x"]), max_size=3
            ),
            "svc:n": st.integers(0, 10),
        },
    ),
)


def _alone(statement: dict[str, Any]) -> Any:
    return parse_policy(
        json.dumps({"Version": "2012-10-17", "Statement": statement}), PolicyKind.IDENTITY
    )


@settings(max_examples=400)
@given(st.lists(st.lists(statements, min_size=1, max_size=4), min_size=1, max_size=3), contexts)
def test_engine_never_allows_what_a_deny_matches(
    policies: list[list[dict[str, Any]]], request: RequestContext
) -> None:
    parsed = [
        (f"p{i}", parse_policy(json.dumps({"Statement": s}), PolicyKind.IDENTITY))
        for i, s in enumerate(policies)
    ]
    decision = decide_identity(parsed, request)
    every = [statement for policy in policies for statement in policy]
    # each statement judged on its own, in a policy of its own
    alone = [evaluate_policy(_alone(s), "x", request, check_principal=False) for s in every]
    if any(result.denies for result in alone):
        assert decision.outcome is Outcome.EXPLICIT_DENY
        assert decision.statements
    elif any(result.allows for result in alone):
        assert decision.outcome is Outcome.ALLOW
    else:
        assert decision.outcome is Outcome.IMPLICIT_DENY


# -- junk is refused, as MalformedPolicy and nothing else ---------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)

VALID: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "A",
            "Effect": "Allow",
            "Principal": {"AWS": "111122223333"},
            "Action": ["kms:Decrypt"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:t": "x"}},
        }
    ],
}


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*prefix, index))
    return found


def _replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replace(node[path[0]], path[1:], value)
    return copy


def _parses_or_refuses(text: str) -> None:
    """Parsing either succeeds or raises MalformedPolicy with a reason; anything else fails."""
    for kind in PolicyKind:
        reason = "parsed"
        try:
            parse_policy(text, kind)
        except MalformedPolicy as refused:
            reason = refused.reason
        assert reason


@given(st.text(max_size=60))
def test_random_text_is_refused_cleanly(text: str) -> None:
    _parses_or_refuses(text)


@given(json_values)
def test_random_json_is_refused_cleanly(value: Any) -> None:
    _parses_or_refuses(json.dumps(value))


@settings(max_examples=300)
@given(st.data())
def test_mutated_policies_are_refused_cleanly(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_paths(VALID)))
    mutated = _replace(VALID, path, data.draw(json_values))
    _parses_or_refuses(json.dumps(mutated))


KNOWN_BASES = {
    f"{family}{test}"
    for family in ("String", "Numeric", "Date")
    for test in (
        "Equals",
        "NotEquals",
        "LessThan",
        "LessThanEquals",
        "GreaterThan",
        "GreaterThanEquals",
        "EqualsIgnoreCase",
        "NotEqualsIgnoreCase",
        "Like",
        "NotLike",
    )
}
KNOWN_BASES = {
    name
    for name in KNOWN_BASES
    if not (name.startswith("String") and ("Than" in name))
    and not (not name.startswith("String") and ("Like" in name or "IgnoreCase" in name))
} | {
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
}


def _known(name: str) -> bool:
    if name == "Null":
        return True
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        name = name.removeprefix(prefix)
    return name.removesuffix("IfExists") in KNOWN_BASES


operator_names = st.one_of(
    st.text(alphabet="ABCDEFGINLOQSTUVWXabcdefghilnoqrstuvxyz:", min_size=1, max_size=24),
    st.builds(
        lambda prefix, base, mutation, suffix: prefix + mutation(base) + suffix,
        st.sampled_from(["", "ForAnyValue:", "ForAllValues:", "forAnyValue:", "ForAllValue:"]),
        st.sampled_from(sorted(KNOWN_BASES)),
        st.sampled_from(
            [lambda s: s, str.lower, lambda s: s[:-1], lambda s: s + "s", lambda s: s.swapcase()]
        ),
        st.sampled_from(["", "IfExists", "ifExists", "IfExist"]),
    ),
)


def _valid_value(name: str) -> str:
    for marker, value in (
        ("Bool", "true"),
        ("Binary", "AAE="),
        ("Ip", "10.0.0.0/8"),
        ("Null", "true"),
    ):
        if marker in name:
            return value
    return "1"


@settings(max_examples=400)
@given(operator_names)
def test_unknown_operators_are_refused(name: str) -> None:
    condition = {name: {"svc:k": _valid_value(name)}}
    text = json.dumps(
        {
            "Statement": {
                "Effect": "Allow",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": condition,
            }
        }
    )
    try:
        parse_policy(text, PolicyKind.IDENTITY)
        accepted = True
    except MalformedPolicy:
        accepted = False
    assert accepted is _known(name)
