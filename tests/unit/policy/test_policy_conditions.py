"""Every condition operator of spec 8.3, as table tests: values, absent keys, IfExists, sets."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from strongroom.policy import ConditionValue

from .policy_helpers import SESSION, condition_holds

ABSENT = object()

# (operator, policy values, request value or ABSENT, expected)
TABLE: list[tuple[str, Any, Any, bool]] = [
    ("StringEquals", "acme", "acme", True),
    ("StringEquals", "acme", "Acme", False),
    ("StringEquals", ["a", "acme"], "acme", True),  # values are ORed
    ("StringEquals", "acme", ABSENT, False),
    ("StringEquals", "a*", "abc", False),  # no wildcards in Equals
    ("StringEquals", "true", True, True),  # booleans compare as their text
    ("StringNotEquals", "acme", "other", True),
    ("StringNotEquals", ["a", "b"], "b", False),  # must match none of the values
    ("StringNotEquals", "acme", ABSENT, True),  # negated: absent key matches
    ("StringEqualsIgnoreCase", "ACME", "acme", True),
    ("StringEqualsIgnoreCase", "ACME", "acne", False),
    ("StringNotEqualsIgnoreCase", "ACME", "acme", False),
    ("StringNotEqualsIgnoreCase", "ACME", ABSENT, True),
    ("StringLike", "ac*", "acme", True),
    ("StringLike", "a?me", "acme", True),
    ("StringLike", "a?me", "accme", False),
    ("StringLike", "*/home/*", "x/home/y/z", True),
    ("StringLike", "ACME*", "acme", False),  # case-sensitive
    ("StringLike", "acme", ABSENT, False),
    ("StringNotLike", "ac*", "acme", False),
    ("StringNotLike", ["x*", "y*"], "acme", True),
    ("StringNotLike", "ac*", ABSENT, True),
    ("NumericEquals", "10", 10, True),
    ("NumericEquals", 10, "10.0", True),
    ("NumericEquals", 10, "ten", False),  # a request value that is not a number matches nothing
    ("NumericNotEquals", 10, 11, True),
    ("NumericNotEquals", 10, 10, False),
    ("NumericNotEquals", 10, ABSENT, True),
    ("NumericLessThan", 30, 7, True),
    ("NumericLessThan", 30, 30, False),
    ("NumericLessThanEquals", 30, 30, True),
    ("NumericGreaterThan", "7", 8, True),
    ("NumericGreaterThan", "7", 7, False),
    ("NumericGreaterThanEquals", 7, 7.0, True),
    ("NumericGreaterThanEquals", 7, ABSENT, False),
    ("DateEquals", "2024-05-01T00:00:00Z", "2024-05-01", True),
    ("DateEquals", "1714521600", "2024-05-01T00:00:00Z", True),  # epoch seconds
    ("DateNotEquals", "2024-05-01", "2024-05-02", True),
    ("DateNotEquals", "2024-05-01", ABSENT, True),
    ("DateLessThan", "2024-05-01T00:00:00Z", "2024-04-30T23:59:59Z", True),
    ("DateLessThan", "2024-05-01T00:00:00Z", "2024-05-01T02:00:00+02:00", False),  # same instant
    ("DateLessThanEquals", "2024-05-01T00:00:00Z", "2024-05-01T02:00:00+02:00", True),
    ("DateGreaterThan", "2024-05-01", 1714521601, True),
    ("DateGreaterThanEquals", "2024-05-01", "2024-04-01", False),
    ("DateGreaterThan", "2024-05-01", "not a date", False),
    ("Bool", "true", True, True),
    ("Bool", True, "true", True),
    ("Bool", "false", True, False),
    ("Bool", "TRUE", "true", True),
    ("Bool", "true", ABSENT, False),
    ("BinaryEquals", base64.b64encode(b"\x00\x01").decode(), "AAE=", True),
    ("BinaryEquals", "AAE=", "AAI=", False),
    ("IpAddress", "203.0.113.0/24", "203.0.113.7", True),
    ("IpAddress", "203.0.113.0/24", "203.0.114.7", False),
    ("IpAddress", "203.0.113.7", "203.0.113.7", True),  # a single address is a /32
    ("IpAddress", "2001:db8::/32", "2001:db8::1", True),
    ("IpAddress", "2001:db8::/32", "203.0.113.7", False),  # v6 block, v4 address
    ("IpAddress", ["10.0.0.0/8", "2001:db8::/32"], "2001:db8:1::5", True),
    ("IpAddress", "10.0.0.0/8", "not-an-ip", False),
    ("IpAddress", "10.0.0.0/8", ABSENT, False),
    ("NotIpAddress", "10.0.0.0/8", "11.0.0.1", True),
    ("NotIpAddress", "10.0.0.0/8", "10.0.0.1", False),
    ("NotIpAddress", "10.0.0.0/8", ABSENT, True),
    ("ArnEquals", "arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:role/app", True),
    (
        "ArnEquals",
        "arn:aws:iam::111122223333:role/app",
        "arn:aws:iam::111122223333:role/App",
        False,
    ),
    ("ArnLike", "arn:aws:iam::*:role/app*", "arn:aws:iam::111122223333:role/app-1", True),
    ("ArnLike", "arn:aws:iam::*:role/*", "arn:aws:iam::111122223333:user/role/x", False),
    ("ArnLike", "arn:aws:*:us-*:*:*", "arn:aws:kms:us-east-1:111122223333:key/k", True),
    ("ArnLike", "arn:aws:*:*:*:key/*", "arn:aws:kms:us:east:1:key/k", False),  # * not across :
    ("ArnLike", "arn:aws:kms:*:*:*", "arn:aws:kms:r:a:alias/x:y", True),  # last part may have :
    ("ArnLike", "arn:aws:iam::*:role/x", "not-an-arn", False),
    ("ArnNotEquals", "arn:aws:iam::*:role/app", "arn:aws:iam::1:role/other", True),
    ("ArnNotLike", "arn:aws:iam::*:role/*", "arn:aws:iam::1:role/other", False),
    ("ArnNotLike", "arn:aws:iam::*:role/*", ABSENT, True),
    ("Null", "true", ABSENT, True),
    ("Null", "true", "x", False),
    ("Null", "false", "x", True),
    ("Null", False, ABSENT, False),
    ("Null", "true", [], True),  # an empty multi-valued key is absent
]


def _keys(request: Any) -> dict[str, ConditionValue]:
    return {} if request is ABSENT else {"svc:key": request}


@pytest.mark.parametrize(("operator", "policy", "request_value", "expected"), TABLE)
def test_operator(operator: str, policy: Any, request_value: Any, expected: bool) -> None:
    condition = {operator: {"svc:Key": policy}}
    assert condition_holds(condition, _keys(request_value)) is expected


@pytest.mark.parametrize(
    ("operator", "policy", "request_value"),
    [(op, pol, req) for op, pol, req, _ in TABLE if op != "Null" and req is not ABSENT],
)
def test_if_exists_is_the_operator_when_present(
    operator: str, policy: Any, request_value: Any
) -> None:
    plain = condition_holds({operator: {"svc:key": policy}}, _keys(request_value))
    assert (
        condition_holds({operator + "IfExists": {"svc:key": policy}}, _keys(request_value)) is plain
    )


@pytest.mark.parametrize("operator", sorted({op for op, *_ in TABLE if op != "Null"}))
def test_if_exists_matches_when_absent(operator: str) -> None:
    sample = next(pol for op, pol, *_ in TABLE if op == operator)
    assert condition_holds({operator + "IfExists": {"svc:key": sample}}, {})


SETS: list[tuple[str, Any, Any, bool]] = [
    ("ForAnyValue:StringEquals", ["a", "b"], ["c", "b"], True),
    ("ForAnyValue:StringEquals", ["a", "b"], ["c", "d"], False),
    ("ForAnyValue:StringEquals", ["a"], [], False),  # empty: no value matches
    ("ForAnyValue:StringEquals", ["a"], ABSENT, False),
    ("ForAnyValue:StringNotEquals", ["a"], ["a", "x"], True),  # one value is not "a"
    ("ForAnyValue:StringNotEquals", ["a"], ["a"], False),
    ("ForAnyValue:StringNotEquals", ["a"], ABSENT, False),
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "b"], True),
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "c"], False),
    ("ForAllValues:StringEquals", ["a"], [], True),  # vacuously true
    ("ForAllValues:StringEquals", ["a"], ABSENT, True),
    ("ForAllValues:StringLike", ["tenant*", "purpose"], ["tenant-id", "purpose"], True),
    ("ForAllValues:StringNotEquals", ["secret"], ["a", "b"], True),
    ("ForAllValues:StringNotEquals", ["secret"], ["a", "secret"], False),
    ("ForAnyValue:StringLikeIfExists", ["x*"], ABSENT, True),
    ("ForAllValues:NumericLessThan", 10, ["1", "2"], True),
    ("ForAllValues:NumericLessThan", 10, ["1", "20"], False),
    ("StringEquals", "b", ["a", "b"], True),  # no set operator on a list: any value
    ("StringNotEquals", "b", ["a", "b"], False),  # negated: no value may match
    ("ForAnyValue:StringEquals", "a", "a", True),  # a single value is a set of one
]


@pytest.mark.parametrize(("operator", "policy", "request_value", "expected"), SETS)
def test_set_operators(operator: str, policy: Any, request_value: Any, expected: bool) -> None:
    assert condition_holds({operator: {"svc:key": policy}}, _keys(request_value)) is expected


def test_keys_and_operators_are_anded() -> None:
    condition = {
        "StringEquals": {"svc:a": "1", "svc:b": "2"},
        "Bool": {"aws:SecureTransport": "true"},
    }
    full: dict[str, ConditionValue] = {"svc:a": "1", "svc:b": "2", "aws:securetransport": True}
    assert condition_holds(condition, full)
    for missing in full:
        assert not condition_holds(condition, {k: v for k, v in full.items() if k != missing})


def test_condition_key_names_are_case_insensitive() -> None:
    condition = {"StringEquals": {"KMS:EncryptionContext:Tenant": "acme"}}
    assert condition_holds(condition, {"kms:encryptioncontext:tenant": "acme"})


def test_principal_keys_come_from_the_principal() -> None:
    assert condition_holds({"StringEquals": {"aws:PrincipalTag/team": "red"}}, {})
    assert condition_holds({"StringEquals": {"aws:username": "alice"}}, {})
    assert condition_holds({"Null": {"aws:username": "true"}}, {}, principal=SESSION)
    assert condition_holds(
        {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/app"}},
        {},
        principal=SESSION,
    )
    assert condition_holds(
        {"StringEquals": {"aws:PrincipalType": "AssumedRole"}}, {}, principal=SESSION
    )
    # what the request supplies wins over what the principal implies
    assert not condition_holds({"StringEquals": {"aws:username": "alice"}}, {"aws:username": "x"})
