"""parse_policy: what it accepts, and every refusal with AWS's reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from strongroom.kms.policy_text import default_key_policy
from strongroom.policy import Effect, MalformedPolicy, PolicyKind, parse_policy
from strongroom.policy.grammar import Reason

from .policy_helpers import ACCOUNT, doc

ALLOW = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}
KEY_ALLOW = {**ALLOW, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}
TRUST_ALLOW = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": ACCOUNT}}


def refusal(text: str, kind: PolicyKind = PolicyKind.IDENTITY) -> str:
    with pytest.raises(MalformedPolicy) as caught:
        parse_policy(text, kind)
    return caught.value.reason


def test_statement_as_object_or_list_and_strings_or_lists() -> None:
    single = parse_policy(json.dumps({"Statement": ALLOW}), PolicyKind.IDENTITY)
    listed = parse_policy(
        doc({**ALLOW, "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": ["*"]}),
        PolicyKind.IDENTITY,
    )
    assert single.version is None
    assert len(single.statements) == 1
    assert listed.version == "2012-10-17"
    assert listed.statements[0].effect is Effect.ALLOW


def test_parsed_documents_are_cached_by_content() -> None:
    text = doc(ALLOW)
    assert parse_policy(text, PolicyKind.IDENTITY) is parse_policy(text, PolicyKind.IDENTITY)


def test_default_key_policy_parses_as_resource_policy() -> None:
    policy = parse_policy(default_key_policy("aws", ACCOUNT), PolicyKind.RESOURCE)
    assert policy.id == "key-default-1"
    assert policy.statements[0].sid == "Enable IAM User Permissions"  # spaces allowed in KMS
    assert policy.principal_arns == (f"arn:aws:iam::{ACCOUNT}:root",)


def _stmt(**changes: Any) -> dict[str, Any]:
    statement = dict(ALLOW)
    for name, value in changes.items():
        if value is None:
            statement.pop(name, None)
        else:
            statement[name] = value
    return statement


MALFORMED: list[tuple[str, str, PolicyKind, str]] = [
    ("not json", "{", PolicyKind.IDENTITY, Reason.SYNTAX),
    ("a list", "[]", PolicyKind.IDENTITY, Reason.SYNTAX),
    ("NaN", '{"Statement": NaN}', PolicyKind.IDENTITY, Reason.SYNTAX),
    ("no Statement", '{"Version": "2012-10-17"}', PolicyKind.IDENTITY, Reason.SYNTAX),
    ("empty statements", doc(), PolicyKind.IDENTITY, Reason.SYNTAX),
    ("statement a string", json.dumps({"Statement": ["x"]}), PolicyKind.IDENTITY, Reason.SYNTAX),
    ("bad version", doc(ALLOW, version="2020-01-01"), PolicyKind.IDENTITY, Reason.SYNTAX),
    (
        "unknown top field",
        json.dumps({"Statement": ALLOW, "Foo": 1}),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "duplicate json key",
        '{"Statement": [], "Statement": []}',
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "Id not a string",
        json.dumps({"Id": 5, "Statement": ALLOW}),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    ("unknown statement field", doc(_stmt(Actions="kms:*")), PolicyKind.IDENTITY, Reason.SYNTAX),
    (
        "Action and NotAction",
        doc(_stmt(NotAction="kms:Encrypt")),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    ("Resource and NotResource", doc(_stmt(NotResource="*")), PolicyKind.IDENTITY, Reason.SYNTAX),
    ("missing Effect", doc(_stmt(Effect=None)), PolicyKind.IDENTITY, Reason.MISSING_EFFECT),
    ("Effect lower-case", doc(_stmt(Effect="allow")), PolicyKind.IDENTITY, Reason.LEGACY),
    ("Effect unknown", doc(_stmt(Effect="Permit")), PolicyKind.IDENTITY, Reason.SYNTAX),
    ("Effect a number", doc(_stmt(Effect=1)), PolicyKind.IDENTITY, Reason.SYNTAX),
    ("Action a number", doc(_stmt(Action=5)), PolicyKind.IDENTITY, Reason.SYNTAX),
    ("Action list of objects", doc(_stmt(Action=[{}])), PolicyKind.IDENTITY, Reason.SYNTAX),
    ("no Action", doc(_stmt(Action=None)), PolicyKind.IDENTITY, Reason.NO_ACTIONS),
    ("empty Action", doc(_stmt(Action=[])), PolicyKind.IDENTITY, Reason.NO_ACTIONS),
    ("no Resource", doc(_stmt(Resource=None)), PolicyKind.IDENTITY, Reason.NO_RESOURCES),
    ("action without vendor", doc(_stmt(Action="Decrypt")), PolicyKind.IDENTITY, Reason.NO_VENDOR),
    ("action with two colons", doc(_stmt(Action="kms:a:b")), PolicyKind.IDENTITY, Reason.ONE_COLON),
    (
        "bad vendor",
        doc(_stmt(Action="k ms:Decrypt")),
        PolicyKind.IDENTITY,
        "Vendor k ms is not valid",
    ),
    (
        "resource not an ARN",
        doc(_stmt(Resource="key/abc")),
        PolicyKind.IDENTITY,
        'Resource key/abc must be in ARN format or "*".',
    ),
    (
        "Principal in identity policy",
        doc(_stmt(Principal="*")),
        PolicyKind.IDENTITY,
        Reason.PRINCIPAL_PROHIBITED,
    ),
    (
        "NotPrincipal in identity policy",
        doc(_stmt(NotPrincipal="*")),
        PolicyKind.IDENTITY,
        Reason.PRINCIPAL_PROHIBITED,
    ),
    ("no Principal in key policy", doc(ALLOW), PolicyKind.RESOURCE, Reason.MISSING_PRINCIPAL),
    (
        "no Principal in trust policy",
        doc({"Effect": "Allow", "Action": "sts:AssumeRole"}),
        PolicyKind.TRUST,
        Reason.MISSING_PRINCIPAL,
    ),
    (
        "Resource in trust policy",
        doc({**TRUST_ALLOW, "Resource": "*"}),
        PolicyKind.TRUST,
        Reason.RESOURCE_PROHIBITED,
    ),
    (
        "Principal and NotPrincipal",
        doc({**KEY_ALLOW, "NotPrincipal": "*"}),
        PolicyKind.RESOURCE,
        Reason.SYNTAX,
    ),
    (
        "principal ARN with wildcard",
        doc({**KEY_ALLOW, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/*"}}),
        PolicyKind.RESOURCE,
        Reason.KEY_POLICY_PRINCIPAL,
    ),
    (
        "principal garbage",
        doc({**KEY_ALLOW, "Principal": {"AWS": "alice"}}),
        PolicyKind.RESOURCE,
        Reason.KEY_POLICY_PRINCIPAL,
    ),
    (
        "principal as ARN string",
        doc({**KEY_ALLOW, "Principal": f"arn:aws:iam::{ACCOUNT}:root"}),
        PolicyKind.RESOURCE,
        Reason.KEY_POLICY_PRINCIPAL,
    ),
    (
        "trust principal garbage",
        doc({**TRUST_ALLOW, "Principal": {"AWS": "alice"}}),
        PolicyKind.TRUST,
        'Invalid principal in policy: "AWS":"alice"',
    ),
    (
        "unknown principal type",
        doc({**KEY_ALLOW, "Principal": {"Group": "x"}}),
        PolicyKind.RESOURCE,
        Reason.SYNTAX,
    ),
    (
        "duplicate Sid",
        doc(_stmt(Sid="A"), _stmt(Sid="A")),
        PolicyKind.IDENTITY,
        Reason.DUPLICATE_SID,
    ),
    (
        "duplicate Sid in key policy",
        doc({**KEY_ALLOW, "Sid": "x y"}, {**KEY_ALLOW, "Sid": "x y"}),
        PolicyKind.RESOURCE,
        Reason.DUPLICATE_SID,
    ),
    ("IAM Sid with spaces", doc(_stmt(Sid="my sid")), PolicyKind.IDENTITY, Reason.SID_CHARACTERS),
    ("Sid a number", doc(_stmt(Sid=3)), PolicyKind.IDENTITY, Reason.SYNTAX),
    (
        "unknown operator",
        doc(_stmt(Condition={"StringEqualz": {"aws:username": "a"}})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "unknown operator, empty block",
        doc(_stmt(Condition={"Foo": {}})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "NullIfExists",
        doc(_stmt(Condition={"NullIfExists": {"aws:username": "true"}})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "ForAnyValue:Null",
        doc(_stmt(Condition={"ForAnyValue:Null": {"aws:username": "true"}})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "lower-case operator",
        doc(_stmt(Condition={"stringequals": {"aws:username": "a"}})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "bad qualifier",
        doc(_stmt(Condition={"ForSomeValues:StringEquals": {"a:b": "a"}})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "condition not an object",
        doc(_stmt(Condition=["StringEquals"])),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "operator block not an object",
        doc(_stmt(Condition={"StringEquals": "x"})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "condition value an object",
        doc(_stmt(Condition={"StringEquals": {"a:b": {"c": 1}}})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "condition value null",
        doc(_stmt(Condition={"StringEquals": {"a:b": None}})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "condition key without vendor",
        doc(_stmt(Condition={"StringEquals": {"username": "a"}})),
        PolicyKind.IDENTITY,
        Reason.NO_VENDOR,
    ),
    (
        "bad number",
        doc(_stmt(Condition={"NumericEquals": {"a:b": "ten"}})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "bad date",
        doc(_stmt(Condition={"DateLessThan": {"aws:CurrentTime": "tomorrow"}})),
        PolicyKind.IDENTITY,
        Reason.LEGACY,
    ),
    (
        "bad bool",
        doc(_stmt(Condition={"Bool": {"aws:SecureTransport": "yes"}})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "bad cidr",
        doc(_stmt(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "bad base64",
        doc(_stmt(Condition={"BinaryEquals": {"a:b": "%%%"}})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "bad Null value",
        doc(_stmt(Condition={"Null": {"a:b": "maybe"}})),
        PolicyKind.IDENTITY,
        Reason.SYNTAX,
    ),
    (
        "ForAllValues on an encryption context pair",
        doc(
            {
                **KEY_ALLOW,
                "Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContext:tenant": "a"}},
            }
        ),
        PolicyKind.RESOURCE,
        Reason.FOR_ALL_VALUES_CONTEXT,
    ),
    (
        "ForAllValues on a request tag",
        doc({**KEY_ALLOW, "Condition": {"ForAllValues:StringEquals": {"aws:RequestTag/x": "a"}}}),
        PolicyKind.RESOURCE,
        Reason.FOR_ALL_VALUES_TAG,
    ),
]


@pytest.mark.parametrize(
    ("text", "kind", "reason"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_documents_are_refused_with_aws_reason(
    text: str, kind: PolicyKind, reason: str
) -> None:
    assert refusal(text, kind) == reason


def test_refusal_detail_names_the_problem() -> None:
    with pytest.raises(MalformedPolicy) as caught:
        parse_policy(doc(_stmt(Condition={"StringEqualz": {"a:b": "c"}})), PolicyKind.IDENTITY)
    assert "StringEqualz" in caught.value.detail
    assert str(caught.value) == Reason.SYNTAX


def test_key_policy_statement_without_action_or_resource_is_accepted() -> None:
    no_action = {k: v for k, v in KEY_ALLOW.items() if k != "Action"}
    no_resource = {"Effect": "Deny", "Principal": "*", "Action": "kms:*"}
    policy = parse_policy(doc(no_action, no_resource), PolicyKind.RESOURCE)
    assert policy.statements[0].actions is None
    assert policy.statements[1].resources is None


def test_trust_policy_and_variants_that_are_valid() -> None:
    trust = parse_policy(doc(TRUST_ALLOW), PolicyKind.TRUST)
    assert trust.statements[0].any_resource
    conditions: tuple[dict[str, Any], ...] = (
        {"ForAnyValue:StringLikeIfExists": {"kms:EncryptionContextKeys": "a*"}},
        {"StringEquals": {}},  # a known operator with no keys constrains nothing
        {"NumericLessThan": {"kms:x": 5}, "Bool": {"aws:SecureTransport": True}},
        {"DateGreaterThan": {"aws:CurrentTime": ["2020-01-01", "2020-01-01T00:00:00Z", 1]}},
    )
    for condition in conditions:
        parse_policy(doc(_stmt(Condition=condition)), PolicyKind.IDENTITY)
