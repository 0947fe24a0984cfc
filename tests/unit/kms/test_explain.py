"""``StrongroomAdmin.ExplainDecision`` (kms/explain.py) and the principal ARN grammar it relies on
(iam/lookup.py): an account root explains its own account's principals and keys, and learns
nothing about another account's, which are answered exactly as ones that do not exist."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom.domain.caller import Caller
from strongroom.domain.identity import InlinePolicyRecord, OwnerKind, RoleRecord, UserRecord
from strongroom.domain.principal import Principal, PrincipalType
from strongroom.errors import (
    AccessDeniedException,
    NotFoundException,
    SerializationException,
    UnknownOperationException,
    ValidationException,
)
from strongroom.iam.lookup import PrincipalArn, parse_principal_arn, principal_from_arn
from strongroom.iam.policies import identity_policies
from strongroom.kms.explain import explain, explain_operation
from strongroom.kms.operations import call
from strongroom.kms.resolve import resolve_key
from strongroom.kms.service import KmsService
from strongroom.protocol.shapes import ServiceModel
from strongroom.storage import SqlStorage

A = "111122223333"  # the account explained into (the conftest's ``caller``)
B = "444455556666"  # the other account, whose root asks
TARGET = "StrongroomAdmin.ExplainDecision"
MISSING_KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET_SID = "SecretSidOfA"
SECRET_POLICY = "secret-inline-policy-of-a"


def _user(account: str, name: str, path: str = "/") -> UserRecord:
    arn = f"arn:aws:iam::{account}:user{path}{name}"
    return UserRecord(account, name, path, f"AIDA{name.upper():X<17}"[:21], arn, 1.0)


def _role(account: str, name: str, path: str = "/") -> RoleRecord:
    arn = f"arn:aws:iam::{account}:role{path}{name}"
    return RoleRecord(
        account, name, path, f"AROA{name.upper():X<17}"[:21], arn, "{}", 3600, "", 1.0
    )


def _allow_all(sid: str) -> str:
    statement = {"Sid": sid, "Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def world(svc: KmsService, storage: SqlStorage, caller: Caller) -> dict[str, str]:
    """Account A: user alice (with a secret inline policy), user carol at path /team/, role
    Admin at /service/, a key and alias/a-key. Account B: user bob."""
    svc.access.identity_policies = lambda principal: identity_policies(storage, principal)
    storage.insert_user(_user(A, "alice"))
    storage.insert_user(_user(A, "carol", "/team/"))
    storage.insert_role(_role(A, "Admin", "/service/"))
    storage.insert_user(_user(B, "bob"))
    storage.put_inline_policy(
        InlinePolicyRecord(A, OwnerKind.USER, "alice", SECRET_POLICY, _allow_all(SECRET_SID))
    )
    storage.put_inline_policy(
        InlinePolicyRecord(B, OwnerKind.USER, "bob", "bobs", _allow_all("BobSid"))
    )
    key_id = str(call(svc, caller, "CreateKey", {})["KeyMetadata"]["KeyId"])
    call(svc, caller, "CreateAlias", {"AliasName": "alias/a-key", "TargetKeyId": key_id})
    b_root = Caller.root(B, "us-east-1", "AKIAB")
    b_key = str(call(svc, b_root, "CreateKey", {})["KeyMetadata"]["KeyId"])
    svc.refresh()
    return {"key": key_id, "key_arn": caller.key_arn(key_id), "b_key": b_key}


def _b_root() -> Caller:
    return Caller.root(B, "us-east-1", "AKIAB")


def _refusal(svc: KmsService, asker: Caller, body: dict[str, Any]) -> tuple[str, str]:
    """(code, message) of an explanation that must fail; the body is validated first, as the
    server does."""
    params = ServiceModel.load().validate_admin(TARGET, body)
    with pytest.raises((NotFoundException, AccessDeniedException)) as caught:
        explain_operation(svc, asker, params)
    assert caught.value.message is not None
    return caught.value.code, caught.value.message


def _explained(svc: KmsService, asker: Caller, body: dict[str, Any]) -> dict[str, Any]:
    return explain_operation(svc, asker, ServiceModel.load().validate_admin(TARGET, body))


# -- the ARN grammar -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "parts"),
    [
        (f"arn:aws:iam::{A}:root", ("aws", A, "root", "/", "", "")),
        (f"arn:aws:iam::{A}:user/alice", ("aws", A, "user", "/", "alice", "")),
        (f"arn:aws-cn:iam::{A}:user/a/b/alice", ("aws-cn", A, "user", "/a/b/", "alice", "")),
        (f"arn:aws:iam::{A}:role/service/Admin", ("aws", A, "role", "/service/", "Admin", "")),
        (
            f"arn:aws:sts::{A}:assumed-role/Admin/s-1",
            ("aws", A, "assumed-role", "/", "Admin", "s-1"),
        ),
        # The reproducer: the "::B:" is a path inside account A's ARN, not B's account field.
        (
            f"arn:aws:iam::{A}:user/::{B}:/alice",
            ("aws", A, "user", f"/::{B}:/", "alice", ""),
        ),
        (
            f"arn:aws-us-gov:iam::{A}:user/a+b=c,d.e@f-g_h",
            ("aws-us-gov", A, "user", "/", "a+b=c,d.e@f-g_h", ""),
        ),
    ],
)
def test_principal_arns_parse_into_their_exact_fields(
    arn: str, parts: tuple[str, str, str, str, str, str]
) -> None:
    parsed = parse_principal_arn(arn)
    assert parsed is not None
    assert (parsed.partition, parsed.account, parsed.kind, parsed.path, parsed.name,
            parsed.session) == parts  # fmt: skip
    assert _rebuilt(parsed) == arn


@pytest.mark.parametrize(
    "arn",
    [
        "",
        A,  # a bare account id is for the CLI only (principal_from_arn)
        f"arn:aws:iam::{A}:root\n",
        f" arn:aws:iam::{A}:root",
        f"arn:aws:iam::{A}:root/",
        f"arn:aws:iam::{A}:user/",
        f"arn:aws:iam::{A}:user/alice/",
        f"arn:aws:iam::{A}:user//alice",
        f"arn:aws:iam::{A}:user/a b/alice",
        f"arn:aws:iam::{A}:user/al ice",
        f"arn:aws:iam::{A}:user/{'a' * 65}",
        f"arn:aws:iam::{A}:user/alic\u00e9",
        f"arn:aws:iam::{A}:group/devs",
        f"arn:aws:iam::{A}:assumed-role/Admin",
        f"arn:aws:iam::{A}:assumed-role/Admin/s",  # a session name is 2-64 characters
        f"arn:aws:iam::{A}:assumed-role/Admin/s/t",
        f"arn:aws:sts::{A}:user/alice",
        f"arn:aws:sts::{A}:root",
        f"arn:aws:kms:us-east-1:{A}:key/{MISSING_KEY}",
        f"arn:aws:iam:us-east-1:{A}:user/alice",
        f"arn:aws:iam::{A}1:user/alice",
        f"arn:aws:iam::{A[:-1]}:user/alice",
        "arn:aws:iam::\u0661\u0661\u0661\u0661\u0662\u0662\u0662\u0662\u0663\u0663\u0663\u0663:root",
        "arn:aws:iam::*:user/alice",
        f"arn:aws:iam::{A}:user/*",
        f"arn:AWS:iam::{A}:root",
        f"arn::iam::{A}:root",
        f"ARN:aws:iam::{A}:root",
        f"arn:aws:IAM::{A}:root",
        f"arn:aws:iam::{A}:user/{'/x' * 300}/alice",  # a path is 512 characters at most
    ],
)
def test_anything_else_is_not_a_principal_arn(arn: str) -> None:
    assert parse_principal_arn(arn) is None


def _rebuilt(parsed: PrincipalArn) -> str:
    head = f"arn:{parsed.partition}:"
    if parsed.kind == "root":
        return f"{head}iam::{parsed.account}:root"
    if parsed.kind == "assumed-role":
        service = parsed.arn.split(":", 3)[2]
        return f"{head}{service}::{parsed.account}:assumed-role/{parsed.name}/{parsed.session}"
    return f"{head}iam::{parsed.account}:{parsed.kind}{parsed.path}{parsed.name}"


_FRAGMENTS = st.sampled_from(
    ["arn", ":", "::", "aws", "aws-cn", "iam", "sts", "kms", A, B, f"{B}0", B[1:], "root",
     "user", "role", "assumed-role", "group", "/", "alice", "bob", "Admin", "s1", "*", "?", " ",
     "\n", "\x00", "\u0664", "-", ".", "@", "%2F", "\u00e9"]
)  # fmt: skip
# Strings near the grammar: random text, fragment soup, and ARNs with an account field mutated.
_NEAR_ARNS = st.one_of(
    st.text(max_size=80),
    st.lists(_FRAGMENTS, max_size=16).map("".join),
    st.builds(
        "arn:{}:{}::{}:{}".format,
        st.sampled_from(["aws", "aws-cn", "", "AWS", "aws:"]),
        st.sampled_from(["iam", "sts", "iam:", ""]),
        st.one_of(st.sampled_from([A, B, "", f"{A}:{B}", f":{B}:"]), st.text(max_size=14)),
        st.lists(_FRAGMENTS, max_size=10).map("".join),
    ),
)


@given(_NEAR_ARNS)
def test_a_parsed_arn_is_exactly_the_string_given(text: str) -> None:
    """Whatever parses is the canonical ARN of its fields: in particular its account field (the
    fifth ``:``-separated field) is the parsed account, twelve ASCII digits."""
    parsed = parse_principal_arn(text)
    if parsed is None:
        return
    assert _rebuilt(parsed) == text
    assert text.split(":")[4] == parsed.account
    assert len(parsed.account) == 12
    assert parsed.account.isascii()
    assert parsed.account.isdigit()


_NAMES = st.text("abcXYZ019_+=,.@-", min_size=1, max_size=64)
_PATHS = st.one_of(
    st.just("/"),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40).map(
        lambda inner: f"/{inner}/"
    ),
)


@given(st.sampled_from(["user", "role"]), _PATHS, _NAMES, st.sampled_from([A, B]))
def test_every_user_and_role_arn_iam_can_make_parses_back(
    kind: str, path: str, name: str, account: str
) -> None:
    arn = f"arn:aws:iam::{account}:{kind}{path}{name}"
    parsed = parse_principal_arn(arn)
    assert parsed == PrincipalArn(arn, "aws", account, kind, path, name)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(
    st.one_of(
        _NEAR_ARNS,
        st.sampled_from(
            [f"arn:aws:iam::{A}:user/alice", f"arn:aws:iam::{A}:root", f"arn:aws:iam::{B}:root",
             f"arn:aws:iam::{A}:user/::{B}:/alice", f"arn:aws:iam::{B}:user/bob",
             f"arn:aws:iam::{B}:user/::{B}:/bob", f"arn:aws:iam::{A}:role/service/Admin"]
        ),
    )
)  # fmt: skip
def test_no_string_but_bs_own_principal_arns_is_explained_for_b(
    svc: KmsService, world: dict[str, str], text: str
) -> None:
    """For B's root, a string is explained only when it is, exactly, the ARN of a principal of
    B; everything else gets the one answer a missing principal gets, and nothing of A's."""
    body = {"PrincipalArn": text, "Action": "kms:Decrypt"}
    try:
        params = ServiceModel.load().validate_admin(TARGET, body)
    except ValidationException:
        assert not 20 <= len(text) <= 2048
        return
    if text not in (f"arn:aws:iam::{B}:root", f"arn:aws:iam::{B}:user/bob"):
        with pytest.raises(NotFoundException) as refused:
            explain_operation(svc, _b_root(), params)
        assert refused.value.message == f"Principal {text} is not found."
        return
    assert SECRET_SID not in json.dumps(explain_operation(svc, _b_root(), params))


# -- ExplainDecision: the caller's own account -----------------------------------------------------


def test_own_principals_are_explained(
    svc: KmsService, caller: Caller, world: dict[str, str]
) -> None:
    alice_arn = f"arn:aws:iam::{A}:user/alice"
    alice = _explained(
        svc, caller, {"PrincipalArn": alice_arn, "Action": "kms:Decrypt", "KeyId": "alias/a-key"}
    )
    assert alice["Decision"] == "ALLOW"
    assert SECRET_SID in [s["Sid"] for s in alice["Statements"]]
    for arn in (
        f"arn:aws:iam::{A}:root",
        f"arn:aws:iam::{A}:user/team/carol",
        f"arn:aws:iam::{A}:role/service/Admin",
        f"arn:aws:sts::{A}:assumed-role/Admin/a-session",
    ):
        body = {"PrincipalArn": arn, "Action": "kms:Encrypt", "KeyId": world["key_arn"]}
        assert _explained(svc, caller, body)["Decision"] in ("ALLOW", "DENY")
    bob_arn = f"arn:aws:iam::{B}:user/bob"
    bob = _explained(
        svc, _b_root(), {"PrincipalArn": bob_arn, "Action": "kms:Decrypt", "KeyId": world["b_key"]}
    )
    assert bob["Decision"] == "ALLOW"
    assert [s["Sid"] for s in bob["Statements"]] == ["Enable IAM User Permissions", "BobSid"]


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:iam::{A}:user/nobody",
        f"arn:aws:iam::{A}:user/team/alice",  # alice is at /, not /team/
        f"arn:aws:iam::{A}:user/carol",  # carol is at /team/
        f"arn:aws:iam::{A}:user/::{B}:/alice",
        f"arn:aws:iam::{A}:role/Admin",  # Admin is at /service/
        f"arn:aws:sts::{A}:assumed-role/Nobody/s1",
        f"arn:aws-cn:iam::{A}:user/alice",  # another partition
        f"arn:aws:iam::{A}:group/devs",
    ],
)
def test_anything_not_exactly_an_own_principal_is_not_found(
    svc: KmsService, caller: Caller, world: dict[str, str], arn: str
) -> None:
    body = {"PrincipalArn": arn, "Action": "kms:Decrypt"}
    assert _refusal(svc, caller, body) == ("NotFoundException", f"Principal {arn} is not found.")


def test_only_an_account_root_may_ask(svc: KmsService, world: dict[str, str]) -> None:
    alice = principal_from_arn(svc.identity, f"arn:aws:iam::{A}:user/alice")
    as_alice = Caller(alice, "us-east-1", "AKIAALICE")
    code, message = _refusal(
        svc, as_alice, {"PrincipalArn": f"arn:aws:iam::{A}:user/alice", "Action": "kms:Decrypt"}
    )
    assert code == "AccessDeniedException"
    assert message.startswith(f"User: arn:aws:iam::{A}:user/alice is not authorized to perform")


# -- ExplainDecision: another account's principals, keys and aliases -------------------------------


def _template(message: str, arn: str) -> str:
    assert arn in message
    return message.replace(arn, "<ARN>")


def test_the_reproducer_is_refused_as_a_missing_principal(
    svc: KmsService, world: dict[str, str]
) -> None:
    reproducer = f"arn:aws:iam::{A}:user/::{B}:/alice"
    body = {"PrincipalArn": reproducer, "Action": "kms:Decrypt", "KeyId": "alias/a-key"}
    code, message = _refusal(svc, _b_root(), body)
    assert (code, message) == ("NotFoundException", f"Principal {reproducer} is not found.")
    assert SECRET_SID not in message
    assert SECRET_POLICY not in message


def test_another_accounts_real_principals_look_like_missing_ones(
    svc: KmsService, world: dict[str, str]
) -> None:
    answers = set()
    for arn in (
        f"arn:aws:iam::{A}:user/alice",  # real, in A
        f"arn:aws:iam::{A}:root",  # real, in A
        f"arn:aws:iam::{A}:role/service/Admin",  # real, in A
        f"arn:aws:sts::{A}:assumed-role/Admin/s1",  # real role, in A
        f"arn:aws:iam::{A}:user/nobody",  # missing, in A
        f"arn:aws:iam::{B}:user/alice",  # missing, in B itself
        f"arn:aws:iam::{B}:role/service/Admin",  # missing, in B itself
        "arn:aws:iam::999999999999:user/alice",  # an account that does not exist
        f"arn:aws:iam::{A}:user/::{B}:/alice",
    ):
        for key in ({}, {"KeyId": "alias/a-key"}, {"KeyId": world["key_arn"]}):
            code, message = _refusal(
                svc, _b_root(), {"PrincipalArn": arn, "Action": "kms:Decrypt", **key}
            )
            answers.add((code, _template(message, arn)))
    assert answers == {("NotFoundException", "Principal <ARN> is not found.")}


def _missing_key_answer(svc: KmsService, account: str, key_id: str) -> str:
    """What resolve_key answers for ``key_id`` in ``account``, where nothing exists."""
    with pytest.raises(NotFoundException) as caught:
        resolve_key(svc, Caller.root(account, "us-east-1"), key_id, allow_alias=True)
    assert caught.value.message is not None
    return caught.value.message


@pytest.mark.parametrize(
    ("present", "absent"),
    [
        ("arn:aws:kms:us-east-1:{A}:key/{key}", "arn:aws:kms:us-east-1:{A}:key/" + MISSING_KEY),
        ("arn:aws:kms:us-east-1:{A}:alias/a-key", "arn:aws:kms:us-east-1:{A}:alias/missing"),
        ("arn:aws:kms:us-east-1:{A}:key/not-a-key-id", "arn:aws:kms:us-east-1:{A}:key/nope"),
        ("arn:aws:kms:us-east-1:{A}:thing/{key}", "arn:aws:kms:us-east-1:{A}:thing/nope"),
    ],
)
def test_another_accounts_keys_and_aliases_look_like_missing_ones(
    svc: KmsService, world: dict[str, str], present: str, absent: str
) -> None:
    """B's root asks about its own user with A's key or alias ARN as KeyId: the answer is the
    one for A's missing key or alias, which is what resolve_key answers for a missing one."""
    present = present.format(A=A, key=world["key"])
    absent = absent.format(A=A, key=world["key"])
    bob = f"arn:aws:iam::{B}:user/bob"
    answers = []
    for key_id in (present, absent):
        code, message = _refusal(
            svc, _b_root(), {"PrincipalArn": bob, "Action": "kms:Decrypt", "KeyId": key_id}
        )
        assert code == "NotFoundException"
        assert "Principal" not in message
        answers.append(_template(message, key_id.split(":", 5)[-1]))
    assert answers[0] == answers[1]
    _, missing = _refusal(
        svc, _b_root(), {"PrincipalArn": bob, "Action": "kms:Decrypt", "KeyId": absent}
    )
    empty = _missing_key_answer(svc, "999999999999", absent.replace(A, "999999999999"))
    assert missing == empty.replace("999999999999", A)


def test_another_accounts_key_arn_answers_as_a_missing_one_in_an_empty_account(
    svc: KmsService, world: dict[str, str]
) -> None:
    """Byte for byte: A's real key ARN, asked by B, is answered as the same ARN would be if A had
    no keys at all (resolve_key on the empty account 999999999999, account field swapped)."""
    bob = f"arn:aws:iam::{B}:user/bob"
    for key_id in (world["key_arn"], f"arn:aws:kms:us-east-1:{A}:alias/a-key"):
        _, message = _refusal(
            svc, _b_root(), {"PrincipalArn": bob, "Action": "kms:Decrypt", "KeyId": key_id}
        )
        empty = _missing_key_answer(svc, "999999999999", key_id.replace(A, "999999999999"))
        assert message == empty.replace("999999999999", A)


def test_account_actions_never_resolve_the_key(svc: KmsService, world: dict[str, str]) -> None:
    body = {"PrincipalArn": f"arn:aws:iam::{B}:user/bob", "Action": "kms:CreateKey",
            "KeyId": world["key_arn"]}  # fmt: skip
    assert _explained(svc, _b_root(), body)["Decision"] == "ALLOW"


# -- the input shape -------------------------------------------------------------------------------


def test_the_target_is_not_a_kms_operation() -> None:
    model = ServiceModel.load()
    assert TARGET not in model.operation_names
    assert "ExplainDecision" not in model.operation_names
    with pytest.raises(UnknownOperationException):
        model.validate(TARGET, {})
    with pytest.raises(UnknownOperationException):
        model.validate_admin("Encrypt", {})


_GOOD = {"PrincipalArn": f"arn:aws:iam::{A}:user/alice", "Action": "kms:Decrypt"}


@pytest.mark.parametrize(
    ("mistake", "encrypt"),
    [
        ({"KeyId": 5}, {"KeyId": 5}),
        ({"KeyId": ["x"]}, {"KeyId": ["x"]}),
        ({"KeyId": {"a": "b"}}, {"KeyId": {"a": "b"}}),
        ({"KeyId": True}, {"KeyId": True}),
        ({"EncryptionContext": "x"}, {"EncryptionContext": "x"}),
        ({"EncryptionContext": {"a": 1}}, {"EncryptionContext": {"a": 1}}),
        ({"EncryptionContext": ["a"]}, {"EncryptionContext": ["a"]}),
        ({"EncryptionAlgorithm": 1}, {"EncryptionAlgorithm": 1}),
    ],
)
def test_wrong_types_are_answered_as_encrypt_answers_them(
    mistake: dict[str, Any], encrypt: dict[str, Any]
) -> None:
    model = ServiceModel.load()
    with pytest.raises(SerializationException) as ours:
        model.validate_admin(TARGET, {**_GOOD, **mistake})
    with pytest.raises(SerializationException) as kms:
        model.validate("Encrypt", {"KeyId": "k", "Plaintext": "eA==", **encrypt})
    assert ours.value.message == kms.value.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"Action": "kms:Decrypt"},
            "1 validation error detected: Value null at 'principalArn' failed to satisfy "
            "constraint: Member must not be null",
        ),
        (
            {"PrincipalArn": f"arn:aws:iam::{A}:root"},
            "1 validation error detected: Value null at 'action' failed to satisfy constraint: "
            "Member must not be null",
        ),
        (
            {**_GOOD, "KeyId": ""},
            "1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1",
        ),
        (
            {**_GOOD, "MessageType": "RAWISH"},
            "1 validation error detected: Value 'RAWISH' at 'messageType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [RAW, DIGEST, EXTERNAL_MU]",
        ),
    ],
)
def test_missing_and_out_of_range_members_are_validation_errors(
    body: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationException) as caught:
        ServiceModel.load().validate_admin(TARGET, body)
    assert caught.value.message == message


def test_modelled_members_are_kept_and_unknown_ones_dropped_as_kms_does() -> None:
    body = {
        **_GOOD,
        "KeyId": "alias/a-key",
        "EncryptionContext": {"tenant": "blue"},
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "SigningAlgorithm": "ECDSA_SHA_256",
        "MessageType": "RAW",
        "MacAlgorithm": "HMAC_SHA_256",
        "KeyAgreementAlgorithm": "ECDH",
        "KeyPairSpec": "RSA_2048",
        "SourceIp": "10.0.0.1",
        "Unknown": {"dropped": True},
    }
    checked = ServiceModel.load().validate_admin(TARGET, body)
    assert checked == {k: v for k, v in body.items() if k != "Unknown"}
    kms = ServiceModel.load().validate("Encrypt", {"KeyId": "k", "Plaintext": "eA==", "Unknown": 1})
    assert "Unknown" not in kms


def test_the_cli_still_explains_any_account(svc: KmsService, world: dict[str, str]) -> None:
    """``strongroom policy explain`` runs with the data directory's full access: any account."""
    decision, resource = explain(
        svc,
        principal_arn=f"arn:aws:iam::{B}:user/bob",
        action="kms:Decrypt",
        region="us-east-1",
        key_id=world["key_arn"],
        params={},
    )
    assert resource == world["key_arn"]
    assert not decision.allowed
    root = principal_from_arn(svc.identity, A)
    assert root == Principal.root(A)
    assert root.type is PrincipalType.ACCOUNT
